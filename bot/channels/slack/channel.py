"""The Slack channel: direct messages, mentions and button clicks in; Block Kit out.

Bolt checks every request's signature, and with `process_before_response=False` it
answers Slack at once (events are acknowledged before any work; clicks call `ack()`
first), so Slack's 3-second limit is met whatever the turn costs. A mention in a
channel is answered in a direct message: carts and orders are nobody else's business;
in the support channel (SLACK_SUPPORT_CHANNEL) it is ignored: the agents there are not
shopping, and the message itself reaches the desk as a message event.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import logs
from bot.channels.delivery import (
    InFlight,
    Job,
    Limits,
    Outcome,
    RetryAfter,
    Sender,
    Undeliverable,
)
from bot.channels.pacing import pacing_for
from bot.channels.slack.desk import Desk
from bot.channels.slack.files import SlackFiles
from bot.channels.slack.render import LINK_PREFIX, SlackMessage, render
from bot.messages import ChatRef, Delivery, Incoming, Kind, Reply
from bot.pipeline import Pipeline
from core.config import Settings
from core.shop import Shop

log = logging.getLogger("chatcart.slack")
DEFAULT_API = "https://slack.com/api/"
API_TIMEOUT = 20
MARKUP = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def plain_text(text: str) -> str:
    """What the person typed: Slack sends links, mentions and e-mail addresses as markup
    (`<mailto:ann@example.com|ann@example.com>`) and escapes `&`, `<` and `>`."""
    def readable(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "!")):
            return ""
        if label:
            return label
        return target.removeprefix("mailto:")
    text = MARKUP.sub(readable, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()
FILE_SHARE = "file_share"  # a message with files: a DM's photo (bot/channels/slack/files.py)
IMAGE_ERRORS = {"invalid_blocks", "invalid_blocks_format", "downloading_image_failed"}
# The conversation cannot be reached any more; any other refusal is about one message.
GONE_ERRORS = {"channel_not_found", "is_archived", "account_inactive", "user_not_found"}


class _DropMessage(logging.Filter):
    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


def _names(*values: object) -> bool:
    """Whether each is a Slack id (a channel, a user): a short non-empty string."""
    return all(isinstance(v, str) and 0 < len(v) <= 64 for v in values)


def address(chat_id: str) -> tuple[str, str | None]:
    """An outbox chat id as a channel and a thread: `D0ANN` (a direct message) or
    `C0SUPPORT:1700000000.000100` (the thread of a handoff's post)."""
    channel, _, thread = chat_id.partition(":")
    return channel, thread or None


def _person(body: dict[str, Any], event: dict[str, Any]) -> str:
    """The sender as `TEAM:USER`, by the user's own workspace (the same for their clicks,
    even in an org-wide Enterprise Grid install)."""
    team = event.get("user_team") or body.get("team_id") or "-"
    return f"{team}:{event.get('user', '')}"


class SlackChannel:
    platform = "slack"

    def __init__(self, settings: Settings, pipeline: Pipeline | None,
                 limits: Limits | None = None) -> None:
        assert settings.slack_bot_token and settings.slack_signing_secret
        self.client = AsyncWebClient(token=settings.slack_bot_token,
                                     base_url=settings.slack_api_base or DEFAULT_API,
                                     timeout=API_TIMEOUT)
        # Bolt also reads SLACK_BOT_TOKEN from the environment and then warns that our
        # client (which carries that same token and the API base) wins: it is meant to.
        quiet = _DropMessage("`token` will be unused")
        log.addFilter(quiet)
        try:
            self.app = AsyncApp(client=self.client, process_before_response=False, logger=log,
                                signing_secret=settings.slack_signing_secret)
        finally:
            log.removeFilter(quiet)
        self.signing_secret = settings.slack_signing_secret
        self.app.event("message")(self._on_message)
        self.app.event("app_mention")(self._on_mention)
        self.app.action(re.compile(".*"))(self._on_action)
        self.handler = AsyncSlackRequestHandler(self.app)
        self.pipeline = pipeline
        limits = limits or Limits(per_chat_rate=1.0, global_rate=50.0)
        self.sender = Sender(self.platform, limits,
                             pacing_for(settings.redis_url, self.platform, limits))
        self.turns = InFlight()
        self.settings = settings
        self.desk: Desk | None = None
        self.files = SlackFiles(settings.slack_bot_token, settings.slack_api_base)

    def open_desk(self, shop: Shop) -> Desk | None:
        """The support channel's desk, when SLACK_SUPPORT_CHANNEL is set."""
        if self.settings.slack_support_channel and self.desk is None:
            self.desk = Desk(self, shop, self.settings.slack_support_channel)
        return self.desk

    # -- events in ----------------------------------------------------------------------

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if self.desk is not None and self.desk.is_ours(event):
            with self.turns:
                await self.desk.on_message(body, event)
            return
        subtype = event.get("subtype")
        if event.get("channel_type") != "im" or subtype not in (None, FILE_SHARE) or event.get(
                "bot_id"):
            return  # edits, joins, our own messages, channel chatter
        if not _names(event.get("channel"), event.get("user")) or not isinstance(
                event.get("text", ""), str):
            logs.event(log, "slack.event_unusable", logging.WARNING,
                       event=str(body.get("event_id", ""))[:40])
            return  # nowhere to answer: it queued a message to chat None, retried 2 minutes
        event_id = f"event:{body.get('event_id', event.get('ts'))}"
        text = plain_text(event.get("text", ""))
        if subtype == FILE_SHARE:
            with self.turns:
                await self._file_share(event, _person(body, event), text, event_id)
            return
        await self._turn(event["channel"], _person(body, event), text, event_id)

    async def _file_share(self, event: dict[str, Any], person: str, text: str,
                          event_id: str) -> None:
        """A file in a direct message: its files go in as the `retphoto` action (as a
        Telegram photo does), fetched from Slack's file host within bounds (files.py); the
        words typed with it then go in as a message of their own."""
        uploads = await self.files.fetch(event.get("files"))
        channel = event["channel"]
        chat = ChatRef(self.platform, channel, person)
        incoming = Incoming(chat, Kind.ACTION, action="retphoto", text=text, files=uploads,
                            delivery=Delivery(self.platform, f"{event_id}:files"))
        assert self.pipeline is not None, "a sending-only channel gets no events"
        answers = await self.pipeline.handle(incoming)
        self.sender.submit(channel, self._jobs(channel, answers, None))
        if text:
            await self._turn(channel, person, text, event_id)

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if not _names(event.get("channel"), event.get("user")) or not isinstance(
                event.get("text", ""), str):
            return
        if event.get("channel") == self.settings.slack_support_channel:
            return  # an agent naming the app in the desk: their message is the desk's
        with self.turns:
            user = event.get("user", "")
            text = plain_text(event.get("text", "")) or "hi"
            try:
                opened = await self.client.conversations_open(users=user)
                direct = opened["channel"]["id"]
            except (SlackApiError, KeyError) as problem:
                logs.event(log, "slack.dm_open_failed", logging.WARNING,
                           error=str(problem)[:200])
                return
            answered = await self._turn(direct, _person(body, event), text,
                                        f"event:{body.get('event_id', event.get('ts'))}")
            if answered:  # not for a redelivered mention
                note = SlackMessage("I've answered you in a direct message.", [])
                self.sender.submit(event["channel"], [self._post_job(
                    event["channel"], note, thread=event.get("ts"))])

    async def _on_action(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        if self.desk is not None and str(action.get("action_id", "")).startswith("desk:"):
            with self.turns:
                await self.desk.on_action(body, action)
            return
        if action.get("action_id", "").startswith(LINK_PREFIX) or "value" not in action:
            return  # a URL button: the browser did the work
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id")
        message_ts = (body.get("container") or {}).get("message_ts") or (
            body.get("message") or {}).get("ts")
        user = body.get("user") or {}
        if not isinstance(user, dict) or not _names(channel, user.get("id")) or not isinstance(
                action.get("value"), str):
            return
        team = user.get("team_id") or (body.get("team") or {}).get("id") or "-"
        await self._turn(channel, f"{team}:{user['id']}", action["value"],
                         f"action:{channel}:{message_ts}:{action.get('action_ts')}",
                         kind=Kind.ACTION, edit_ts=message_ts)

    async def _turn(self, channel: str, person: str, text: str, event_id: str,
                    kind: Kind = Kind.TEXT, edit_ts: str | None = None) -> bool:
        """Handle one message or click; False when it was a copy already handled."""
        with self.turns:
            if kind is Kind.TEXT and text.startswith("/") and " " not in text.strip():
                kind = Kind.COMMAND
            chat = ChatRef(self.platform, channel, person)
            incoming = Incoming(chat, kind, text=text if kind is not Kind.ACTION else "",
                                action=text if kind is Kind.ACTION else "",
                                delivery=Delivery(self.platform, event_id))
            assert self.pipeline is not None, "a sending-only channel gets no events"
            answers = await self.pipeline.handle(incoming)
            self.sender.submit(channel, self._jobs(channel, answers, edit_ts))
            return bool(answers)

    # -- replies out --------------------------------------------------------------------

    def send(self, channel: str, answers: list[Reply]) -> asyncio.Future[Outcome]:
        """Messages the shop sends on its own (an order confirmed, a transcript entry for a
        handoff's thread), queued like replies; the future says how they went (the relay
        marks the outbox by it). Paced per channel: Slack's limit is a channel's."""
        where, thread = address(channel)
        return self.sender.submit(where, self._jobs(where, answers, None, thread))

    def _jobs(self, channel: str, answers: list[Reply], edit_ts: str | None,
              thread: str | None = None) -> list[Job]:
        jobs = []
        for n, reply in enumerate(answers):
            for message in render(reply):
                if n == 0 and message.edit and edit_ts:
                    jobs.append(Job(lambda m=message: self._update(channel, edit_ts, m),
                                    "chat.update"))
                else:
                    jobs.append(self._post_job(channel, message, thread))
        return jobs

    def _post_job(self, channel: str, message: SlackMessage, thread: str | None = None) -> Job:
        return Job(lambda: self._post(channel, message, thread), "chat.postMessage")

    async def _post(self, channel: str, message: SlackMessage, thread: str | None) -> None:
        try:
            await self._call(self.client.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks, thread_ts=thread))
        except Undeliverable as problem:
            if str(problem) not in IMAGE_ERRORS:
                raise
            bare = message.without_images()  # Slack could not fetch the picture
            await self._call(self.client.chat_postMessage(
                channel=channel, text=bare.text, blocks=bare.blocks, thread_ts=thread))

    async def _update(self, channel: str, ts: str, message: SlackMessage) -> None:
        try:
            await self._call(self.client.chat_update(channel=channel, ts=ts, text=message.text,
                                                     blocks=message.blocks))
        except Undeliverable:  # gone or too old to edit: say it in a new message
            await self._post(channel, message, None)

    @staticmethod
    async def _call(request: Any) -> Any:
        try:
            return await request
        except SlackApiError as failed:
            response = failed.response
            if response.status_code == 429:
                raise RetryAfter(float(response.headers.get("Retry-After", 1))) from None
            if response.status_code >= 500:
                raise  # Slack is having trouble: the sender retries
            error = response.get("error") if isinstance(response.data, dict) else None
            if error == "ratelimited":
                raise RetryAfter(float(response.headers.get("Retry-After", 1))) from None
            raise Undeliverable(str(error or response.status_code),
                                gone=error in GONE_ERRORS) from None

    async def connect_socket_mode(self, app_token: str) -> Callable[[], Awaitable[None]]:
        """Receive events over Slack's WebSocket (no public URL needed); returns the stop."""
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        socket = AsyncSocketModeHandler(self.app, app_token)
        await socket.connect_async()
        return socket.close_async

    async def close(self) -> None:
        await self.turns.idle(5)
        await self.sender.close()
        await self.files.close()
