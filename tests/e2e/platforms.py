"""Shoppers on Telegram and Slack for tests: they post platform-shaped JSON to the real
webhook endpoints and read what the bot sent back from the recording API doubles.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.support.platforms import BOT_ID, Call, FakeSlack, FakeTelegram

_update_ids = itertools.count(400_000_000)
_message_ids = itertools.count(1)
_event_ids = itertools.count(1)


class ChatUser:
    """What a shopper on any platform reads: the bot's messages to their chat."""

    api: FakeTelegram | FakeSlack
    settle: Callable[[], Awaitable[object]]
    seen: int

    def mine(self) -> list[Call]:
        raise NotImplementedError

    async def replies(self) -> list[Call]:
        """Everything sent to this chat since the last look, once the bot has settled."""
        await self.api.wait_for(lambda: len(self.mine()) > self.seen)
        await self.settle()
        new = self.mine()[self.seen:]
        self.seen += len(new)
        return new


class TelegramUser(ChatUser):
    """A person in a private chat with the bot (chat id == user id, as Telegram does)."""

    def __init__(self, client: httpx.AsyncClient, api: FakeTelegram, secret: str,
                 settle: Callable[[], Awaitable[object]], user_id: int = 111222333,
                 first_name: str = "Ann") -> None:
        self.client, self.api, self.secret, self.settle = client, api, secret, settle
        self.user = {"id": user_id, "is_bot": False, "first_name": first_name,
                     "last_name": "Lee", "username": f"{first_name.lower()}_{user_id}",
                     "language_code": "en"}
        self.chat = {"id": user_id, "first_name": first_name, "last_name": "Lee",
                     "username": self.user["username"], "type": "private"}
        self.seen = 0  # calls already read

    def message_update(self, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {"message_id": next(_message_ids), "from": self.user,
                                   "chat": self.chat, "date": int(time.time()), "text": text}
        if text.startswith("/"):
            message["entities"] = [{"offset": 0, "length": len(text.split()[0]),
                                    "type": "bot_command"}]
        return {"update_id": next(_update_ids), "message": message}

    def photo_update(self, data: bytes, caption: str = "") -> dict[str, Any]:
        """The shopper sends a photo: Telegram keeps the file and the update names it."""
        photo = self.api.upload(data)  # type: ignore[union-attr]
        small = {**photo, "width": 90, "height": 67, "file_size": 1000}
        message: dict[str, Any] = {"message_id": next(_message_ids), "from": self.user,
                                   "chat": self.chat, "date": int(time.time()),
                                   "photo": [small, photo]}
        if caption:
            message["caption"] = caption
        return {"update_id": next(_update_ids), "message": message}

    async def send_photo(self, data: bytes, caption: str = "") -> list[Call]:
        return await self.send(self.photo_update(data, caption))

    def press_update(self, label: str) -> dict[str, Any]:
        """A callback_query for the button with this label on the bot's latest keyboard."""
        call, button = self.button(label)
        message = dict(self.api.messages[(str(self.chat["id"]), call.message_id)])
        return {"update_id": next(_update_ids), "callback_query": {
            "id": str(next(_update_ids) * 7), "from": self.user, "message": message,
            "chat_instance": "-5550001", "data": button["callback_data"]}}

    async def post(self, update: dict[str, Any], secret: str | None = None) -> httpx.Response:
        return await self.client.post("/telegram/webhook", json=update, headers={
            "X-Telegram-Bot-Api-Secret-Token": self.secret if secret is None else secret})

    async def say(self, text: str) -> list[Call]:
        return await self.send(self.message_update(text))

    async def press(self, label: str) -> list[Call]:
        return await self.send(self.press_update(label))

    async def send(self, update: dict[str, Any]) -> list[Call]:
        """Deliver an update; the messages the bot sent (or edited) in answer."""
        response = await self.post(update)
        assert response.status_code == 200, response.text
        return await self.replies()

    def mine(self) -> list[Call]:
        chat = str(self.chat["id"])
        return [c for c in self.api.calls if c.chat == chat and c.method in (
            "sendMessage", "sendPhoto", "editMessageText")]

    def button(self, label: str) -> tuple[Any, dict[str, Any]]:
        """The latest bot message with a button labelled `label` (or starting with it)."""
        for call in reversed(self.mine()):
            markup = call.params.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label or button["text"].startswith(label):
                        return _Sent(call, self.api), button
        raise AssertionError(f"no button {label!r} on the bot's messages")


class _Sent:
    """A message the bot sent (or edited): which message_id it has in the chat now."""

    def __init__(self, call: Call, api: FakeTelegram) -> None:
        self.call = call
        if call.method == "editMessageText":
            self.message_id = int(call.params["message_id"])
        else:
            chat = str(call.params["chat_id"])
            ids = [mid for (c, mid), m in api.messages.items() if c == chat and (
                m.get("text") == call.params.get("text") or
                m.get("caption") == call.params.get("caption"))]
            self.message_id = max(ids)


def keyboard_labels(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


def slack_signature(secret: str, body: bytes, timestamp: str) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackUser(ChatUser):
    """A person in a direct message with the app."""

    def __init__(self, client: httpx.AsyncClient, api: FakeSlack, signing_secret: str,
                 settle: Callable[[], Awaitable[object]], user: str = "U0ANN",
                 team: str = "T0SHOP") -> None:
        self.client, self.api, self.secret, self.settle = client, api, signing_secret, settle
        self.user, self.team = user, team
        self.channel = "D" + user.lstrip("U")
        self.seen = 0

    def message_event(self, text: str, channel_type: str = "im",
                      kind: str = "message") -> dict[str, Any]:
        ts = f"{time.time():.6f}"
        return {"token": "legacy-verification-token", "team_id": self.team,
                "api_app_id": "A0SHOP", "type": "event_callback",
                "event_id": f"Ev{next(_event_ids):08d}", "event_time": int(time.time()),
                "authorizations": [{"enterprise_id": None, "team_id": self.team,
                                    "user_id": FakeSlack.BOT_USER, "is_bot": True}],
                "event": {"type": kind, "channel": self.channel, "user": self.user,
                          "text": text, "ts": ts, "event_ts": ts, "channel_type": channel_type,
                          "client_msg_id": f"c{next(_event_ids)}"}}

    def share_event(self, files: list[dict[str, Any]], text: str = "") -> dict[str, Any]:
        """A message with files (subtype file_share), as Slack sends a DM's upload."""
        body = self.message_event(text)
        body["event"].update(subtype="file_share", files=files, upload=False,
                             display_as_bot=False)
        return body

    async def share(self, data: bytes, text: str = "", **file: Any) -> list[Call]:
        """Share a file (kept by the double, see FakeSlack.upload) in the DM."""
        response = await self.post_json(self.share_event([self.api.upload(data, **file)],
                                                         text))
        assert response.status_code == 200, response.text
        return await self.replies()

    def action_payload(self, label: str) -> dict[str, Any]:
        ts, element = self.button(label)
        return {"type": "block_actions", "team": {"id": self.team, "domain": "shop"},
                "user": {"id": self.user, "username": "ann", "team_id": self.team},
                "api_app_id": "A0SHOP", "token": "legacy-verification-token",
                "container": {"type": "message", "message_ts": ts, "channel_id": self.channel,
                              "is_ephemeral": False},
                "trigger_id": f"{next(_event_ids)}.{next(_event_ids)}.abc",
                "channel": {"id": self.channel, "name": "directmessage"},
                "message": self.api.messages[(self.channel, ts)],
                "response_url": "https://hooks.slack.com/actions/T0SHOP/1/x",
                "actions": [{"action_id": element["action_id"], "block_id": "b1",
                             "text": element["text"], "value": element.get("value"),
                             "type": "button", "action_ts": f"{time.time():.6f}"}]}

    async def post_json(self, body: dict[str, Any], secret: str | None = None,
                        timestamp: str | None = None,
                        headers: dict[str, str] | None = None) -> httpx.Response:
        raw = json.dumps(body).encode()
        return await self._post(raw, "application/json", secret, timestamp, headers)

    async def post_action(self, payload: dict[str, Any], secret: str | None = None
                          ) -> httpx.Response:
        raw = urlencode({"payload": json.dumps(payload)}).encode()
        return await self._post(raw, "application/x-www-form-urlencoded", secret, None, None)

    async def _post(self, raw: bytes, kind: str, secret: str | None, timestamp: str | None,
                    headers: dict[str, str] | None) -> httpx.Response:
        stamp = timestamp or str(int(time.time()))
        signed = {"Content-Type": kind, "X-Slack-Request-Timestamp": stamp,
                  "X-Slack-Signature": slack_signature(secret or self.secret, raw, stamp),
                  **(headers or {})}
        return await self.client.post("/slack/events", content=raw, headers=signed)

    async def say(self, text: str) -> list[Call]:
        response = await self.post_json(self.message_event(text))
        assert response.status_code == 200, response.text
        return await self.replies()

    async def press(self, label: str) -> list[Call]:
        response = await self.post_action(self.action_payload(label))
        assert response.status_code == 200, response.text
        return await self.replies()

    def mine(self) -> list[Call]:
        return [c for c in self.api.calls if c.chat == self.channel and c.method in (
            "chat.postMessage", "chat.update")]

    def button(self, label: str) -> tuple[str, dict[str, Any]]:
        for (channel, ts), message in reversed(list(self.api.messages.items())):
            if channel != self.channel:
                continue
            for block in message.get("blocks", []):
                for element in block.get("elements", []):
                    if element.get("text", {}).get("text", "").startswith(label):
                        return ts, element
        raise AssertionError(f"no button {label!r} in the app's messages")


class SlackAgent:
    """A member of staff in the Slack support channel: reads the handoffs' posts and their
    threads, replies in a thread, presses a post's buttons."""

    def __init__(self, client: httpx.AsyncClient, api: FakeSlack, signing_secret: str,
                 channel: str, settle: Callable[[], Awaitable[object]], user: str = "U0DESK",
                 email: str | None = "desk@example.com", team: str = "T0SHOP") -> None:
        self.client, self.api, self.secret = client, api, signing_secret
        self.channel, self.settle, self.user, self.team = channel, settle, user, team
        self.poster = SlackUser(client, api, signing_secret, settle, user, team)
        api.people[user] = {"email": email, "name": "Desk"}

    async def post(self, number: int = 1) -> str:
        """The ts of the `number`th handoff post in the channel (waiting for it)."""
        def posts() -> list[str]:
            return [ts for (channel, ts), message in self.api.messages.items()
                    if channel == self.channel and "thread_ts" not in message]
        await self.api.wait_for(lambda: len(posts()) >= number)
        return posts()[number - 1]

    def post_text(self, ts: str) -> str:
        blocks = self.api.messages[(self.channel, ts)].get("blocks", [])
        return "\n".join(b["text"]["text"] if b.get("type") == "section" else
                         " ".join(e.get("text", "") for e in b.get("elements", []))
                         for b in blocks if b.get("type") in ("section", "context"))

    def buttons(self, ts: str) -> list[str]:
        return [e["text"]["text"] for b in self.api.messages[(self.channel, ts)]["blocks"]
                if b.get("type") == "actions" for e in b["elements"]]

    def thread(self, ts: str) -> list[str]:
        """What the app posted in the post's thread, in order (section text, unescaped)."""
        return [_plain(slack_text(call) or call.text) for call in self.api.calls
                if call.method == "chat.postMessage" and call.chat == self.channel
                and str(call.params.get("thread_ts")) == ts]

    def told(self) -> list[str]:
        """The notes only this agent saw (ephemeral)."""
        return [call.text for call in self.api.of("chat.postEphemeral", chat=self.channel)
                if call.params.get("user") == self.user]

    def reply_event(self, ts: str | None, text: str, **extra: Any) -> dict[str, Any]:
        body = self.poster.message_event(text, channel_type="channel")
        body["event"]["channel"] = self.channel
        if ts is not None:
            body["event"]["thread_ts"] = ts
        body["event"].update(extra)
        return body

    async def reply(self, ts: str | None, text: str, secret: str | None = None,
                    **extra: Any) -> httpx.Response:
        response = await self.poster.post_json(self.reply_event(ts, text, **extra), secret)
        await self.settle()
        return response

    def press_payload(self, ts: str, label: str) -> dict[str, Any]:
        message = self.api.messages[(self.channel, ts)]
        element = next(e for b in message["blocks"] if b.get("type") == "actions"
                       for e in b["elements"] if e["text"]["text"] == label)
        return {"type": "block_actions", "team": {"id": self.team, "domain": "shop"},
                "user": {"id": self.user, "username": "desk", "team_id": self.team},
                "api_app_id": "A0SHOP", "token": "legacy-verification-token",
                "container": {"type": "message", "message_ts": ts, "channel_id": self.channel,
                              "is_ephemeral": False},
                "trigger_id": f"{next(_event_ids)}.{next(_event_ids)}.abc",
                "channel": {"id": self.channel, "name": "support"},
                "message": message,
                "response_url": "https://hooks.slack.com/actions/T0SHOP/2/y",
                "actions": [{"action_id": element["action_id"], "block_id": "desk-buttons",
                             "text": element["text"], "type": "button",
                             "action_ts": f"{time.time():.6f}"}]}

    async def press(self, ts: str, label: str, secret: str | None = None) -> httpx.Response:
        response = await self.poster.post_action(self.press_payload(ts, label), secret)
        await self.settle()
        return response


def _plain(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slack_text(call: Call) -> str:
    return "\n".join(block["text"]["text"] for block in call.params.get("blocks", [])
                     if block.get("type") == "section")


def slack_buttons(call: Call) -> list[str]:
    return [e["text"]["text"] for block in call.params.get("blocks", [])
            if block.get("type") == "actions" for e in block["elements"]]


__all__ = ["BOT_ID", "SlackAgent", "SlackUser", "TelegramUser", "keyboard_labels", "slack_buttons",
           "slack_text"]
