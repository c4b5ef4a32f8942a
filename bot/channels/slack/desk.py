"""The Slack support channel (`SLACK_SUPPORT_CHANNEL`): each handoff is posted there, and
its conversation lives in the post's thread.

- Posting: whichever process runs the jobs looks for handoffs not yet posted (woken by
  the `support.handoff_requested` news, and every few seconds in any case), posts each,
  and records the post as the handoff's mirror through core (`slack:<channel>:<ts>`, the
  outbox address SlackChannel.send posts into a thread). From then on core queues every
  transcript entry not typed in the thread to it: the shopper's messages, the console's.
  Two processes posting one handoff at once: the second finds the mirror set and deletes
  its own post. What was said while the post was on its way is queued to the thread in
  the transaction that sets the mirror (core's recording paths take the same row lock,
  so every entry is either in that batch or mirrored by core, once).
- Replies in the thread go to the shopper through core (`agent_reply`, origin "mirror",
  so they are not echoed back); the Take and Resolve buttons take and resolve.
- Who may answer: a full member of the workspace the app is installed in (users.info:
  not a guest, not a stranger from a shared channel, not a bot or deleted; the team as
  auth.test gives it), whose confirmed e-mail address (scope users:read.email) is that
  of an active admin or support account in Chatcart. Anyone else is told so, privately
  in the thread, and nothing changes. Replies from bots (this app's own
  posts too), edits, and messages outside a handoff's thread are ignored.
- Alerts (`SLACK_ALERTS_CHANNEL`) are not the desk's: the sweeper has core queue them to
  that channel through the outbox (bot/sweeper.py), once per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot import logs, replies
from bot.channels.delivery import Job, RetryAfter, Undeliverable
from bot.channels.slack import desk_post
from bot.channels.slack.desk_post import RESOLVE, TAKE, Handoff, Said
from bot.channels.slack.render import escape
from core.accounts.models import ChatIdentity, Role, User
from core.accounts.service import normalize_email
from core.audit.actor import Actor, Channel
from core.audit.news import News
from core.carts import service as carts
from core.carts.models import Cart
from core.errors import DomainError, InvalidInput
from core.i18n import _
from core.outbox import service as outbox
from core.shop import Shop
from core.support import conversations
from core.support.models import Author, HandoffRequest, HandoffStatus, Origin
from core.webhooks import receipts

if TYPE_CHECKING:
    from bot.channels.slack.channel import SlackChannel

log = logging.getLogger("chatcart.slack.desk")
STAFF_ROLES = (Role.ADMIN, Role.SUPPORT)
KNOWN_FOR = 600.0      # seconds a Slack user's e-mail address is remembered
UNKNOWN_FOR = 60.0     # ... and that they have none we can read
INTERVAL = 3.0         # seconds between looks for handoffs to post when nothing wakes it
RETRY = 30.0           # seconds before a post that failed is tried again
AUTHORS = {Author.SHOPPER: "Shopper", Author.BOT: "Bot", Author.SYSTEM: "Chatcart"}


def mirror_key(channel: str, thread_ts: str) -> str:
    return f"slack:{channel}:{thread_ts}"


@dataclass(frozen=True, slots=True)
class SlackPerson:
    email: str | None
    why_not: str | None = None   # why they cannot answer, when known from Slack alone


class Desk:
    def __init__(self, slack: SlackChannel, shop: Shop, channel: str) -> None:
        self.slack, self.shop, self.channel = slack, shop, channel
        self._people: dict[str, tuple[float, SlackPerson]] = {}
        self._home: tuple[str, str | None] | None = None   # auth.test's team (enterprise)
        self._failed: dict[int, float] = {}   # handoff id -> when its post may be tried again
        self._wake = asyncio.Event()

    # -- posting handoffs ------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self, interval: float = INTERVAL) -> None:
        """Post what is waiting, woken by news of a request (here or, through Redis, in
        another process) or every `interval` seconds."""
        with self.shop.newsroom.listening() as news:
            heard = asyncio.create_task(self._hear(news))
            try:
                while True:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), interval)
                    self._wake.clear()
                    try:
                        await self.post_waiting()
                    except asyncio.CancelledError:
                        raise
                    except Exception:  # noqa: BLE001 - the next look tries again
                        log.exception("desk.round_failed")
            finally:
                heard.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heard

    async def _hear(self, news: asyncio.Queue[News]) -> None:
        while True:
            item = await news.get()
            if item.action == "support.handoff_requested":
                self.wake()

    async def post_waiting(self) -> int:
        """Post each handoff not yet posted (oldest first); returns how many were posted."""
        async with self.shop.transaction() as session:
            waiting = await session.scalars(
                select(HandoffRequest.id).where(HandoffRequest.mirror_key.is_(None),
                                                HandoffRequest.status != HandoffStatus.CLOSED)
                .order_by(HandoffRequest.id).limit(20))
            due = [n for n in waiting if self._failed.get(n, 0.0) <= time.monotonic()]
        posted = 0
        for handoff_id in due:
            posted += await self._post(handoff_id)
        return posted

    async def _post(self, handoff_id: int) -> int:
        async with self.shop.transaction() as session:
            shown = await self._handoff(session, handoff_id)
        if shown is None:
            return 0
        handoff, last_entry = shown
        blocks = desk_post.post_blocks(handoff)
        try:
            answer = await self.slack._call(self.slack.client.chat_postMessage(
                channel=self.channel, text=escape(desk_post.headline(handoff)), blocks=blocks,
                unfurl_links=False))
        except (Undeliverable, RetryAfter, SlackApiError) as problem:
            self._failed[handoff_id] = time.monotonic() + RETRY
            logs.event(log, "desk.post_failed", logging.WARNING, handoff=handoff_id,
                       error=str(problem)[:200])
            return 0
        self._failed.pop(handoff_id, None)
        ts = str(answer["ts"])
        key = mirror_key(self.channel, ts)
        async with self.shop.transaction() as session:
            request = await conversations.locked(session, handoff_id)
            ours = request.mirror_key is None
            if ours:
                await conversations.set_mirror(session=session, handoff_id=handoff_id,
                                               mirror_key=key)
                # What was said between reading the post and setting the mirror (an entry
                # being recorded now waits for this lock, then core mirrors it itself).
                missed = await conversations.transcript(session=session,
                                                        handoff_id=handoff_id,
                                                        after_id=last_entry)
                if missed:
                    await outbox.enqueue(session=session, chat_key=key, text="\n".join(
                        f"{self._author(entry)}: {entry.text}" for entry in missed))
        if not ours:  # another process posted it first
            with contextlib.suppress(Undeliverable, RetryAfter, SlackApiError):
                await self.slack._call(self.slack.client.chat_delete(channel=self.channel,
                                                                     ts=ts))
            return 0
        logs.event(log, "desk.posted", handoff=handoff_id)
        return 1

    async def _handoff(self, session: Any, handoff_id: int) -> tuple[Handoff, int] | None:
        """What the post shows of a handoff, and the last transcript entry it quotes."""
        row = (await session.execute(
            select(HandoffRequest, ChatIdentity.platform, ChatIdentity.display_name,
                   ChatIdentity.user_id, User.email)
            .join(ChatIdentity, ChatIdentity.id == HandoffRequest.identity_id)
            .outerjoin(User, User.id == ChatIdentity.user_id)
            .where(HandoffRequest.id == handoff_id))).first()
        if row is None or row[0].mirror_key is not None:
            return None
        request, platform, name, user_id, email = row
        entries = await conversations.transcript(session=session, handoff_id=handoff_id)
        lines, total = await self._cart(session, user_id, request.chat_key)
        holder = None
        if request.taken_by_id is not None:
            taker = await session.get(User, request.taken_by_id)
            holder = (taker.display_name or taker.email) if taker else None
        handoff = Handoff(request.id, name or "", platform, email,
                          conversations.reason_of(session, request),
                          lines, total, [Said(self._author(e), e.text) for e in entries
                                         if e.author is not Author.NOTE],
                          str(request.status), holder)
        return handoff, (entries[-1].id if entries else 0)

    async def _cart(self, session: Any, user_id: int | None,
                    chat_key: str) -> tuple[list[str], str | None]:
        """The cart the shopper sees (their account's, else the chat's), as the bot writes it;
        read without creating one."""
        owner = Cart.user_id == user_id if user_id is not None else Cart.session_key == chat_key
        cart = await session.scalar(select(Cart).where(owner))
        if cart is None:
            return [], None
        view = await carts.view(session=session, cart=cart)
        if view.is_empty:
            return [], None
        money = replies.money
        lines = [f"{line.quantity} × {line.name} ({money(line.unit_price.amount, view.currency)})"
                 f" = {money(line.line_total.amount, view.currency)}" for line in view.lines]
        items = "item" if view.item_count == 1 else "items"
        return lines, (f"Total: {money(view.subtotal.amount, view.currency)} "
                       f"({view.item_count} {items})")

    @staticmethod
    def _author(entry: conversations.Entry) -> str:
        if entry.author in (Author.AGENT, Author.NOTE):
            return entry.staff_email or "Agent"
        return AUTHORS.get(entry.author, str(entry.author))

    # -- the thread and the buttons ---------------------------------------------------------

    def is_ours(self, event: dict[str, Any]) -> bool:
        return event.get("channel") == self.channel

    async def on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A message in the support channel: an agent's reply in a handoff's thread, or
        something to ignore."""
        thread, ts, user = event.get("thread_ts"), event.get("ts"), event.get("user")
        if (event.get("subtype") or event.get("bot_id") or not isinstance(thread, str)
                or thread == ts or not isinstance(user, str) or not user
                or not isinstance(event.get("text"), str)):
            return  # edits, joins, bots (our own posts), the channel's own chatter
        from bot.channels.slack.channel import plain_text

        text = plain_text(event["text"])
        if not text:
            return
        person = await self._person(user)  # remembered: no call to Slack on most replies
        event_id = str(body.get("event_id") or ts)
        refusal, status, handoff_id = None, None, None
        async with self.shop.transaction() as session:  # one transaction: this is the
            request = await conversations.handoff_for_mirror(  # relay's hot path (bench)
                session=session, mirror_key=mirror_key(self.channel, thread))
            if request is None:
                return  # a thread that is no handoff's
            handoff_id, status = request.id, request.status
            if not await receipts.claim(session=session, source="slack-desk",
                                        event_id=event_id):
                return  # Slack delivered it again
            staff = await self._staff(session, person)
            if isinstance(staff, str):
                refusal = staff
            else:
                try:
                    async with session.begin_nested():
                        await conversations.agent_reply(
                            session=session, handoff_id=handoff_id, staff_id=staff.id,
                            text=text, origin=Origin.MIRROR, actor=self._actor(staff, user))
                except DomainError as refused:
                    refusal = refused.message
        if refusal is not None:
            logs.event(log, "desk.reply_refused", handoff=handoff_id, user=user)
            self._tell(user, thread, refusal)
        elif status is HandoffStatus.OPEN:  # the reply took it
            await self._show_status(handoff_id, thread)

    async def on_action(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Take or Resolve pressed on a handoff's post."""
        container = body.get("container") or {}
        user = (body.get("user") or {}).get("id")
        thread = container.get("message_ts") or (body.get("message") or {}).get("ts")
        verbs = {TAKE: conversations.take, RESOLVE: conversations.resolve}
        verb = verbs.get(str(action.get("action_id")))
        if (container.get("channel_id") or (body.get("channel") or {}).get("id")) != \
                self.channel or not isinstance(user, str) or not isinstance(thread, str) \
                or verb is None:
            return
        async with self.shop.transaction() as session:
            request = await conversations.handoff_for_mirror(
                session=session, mirror_key=mirror_key(self.channel, thread))
            handoff_id = None if request is None else request.id
        if handoff_id is None:
            return
        person = await self._person(user)
        refusal = None
        async with self.shop.transaction() as session:
            staff = await self._staff(session, person)
            if isinstance(staff, str):
                refusal = staff
            else:
                try:
                    async with session.begin_nested():
                        await verb(session=session, handoff_id=handoff_id, staff_id=staff.id,
                                   actor=self._actor(staff, user), origin=Origin.MIRROR)
                except DomainError as refused:
                    refusal = refused.message
        if refusal is not None:
            self._tell(user, thread, refusal)
        message = body.get("message") or {}
        await self._show_status(handoff_id, thread, message.get("blocks")
                                if isinstance(message.get("blocks"), list) else None)

    async def _show_status(self, handoff_id: int, thread: str,
                           blocks: list[dict[str, Any]] | None = None) -> None:
        """The post's status line and buttons as the conversation now stands; `blocks` are
        the post's as Slack sent them with a click, else they are read back."""
        async with self.shop.transaction() as session:
            request = await session.get(HandoffRequest, handoff_id)
            if request is None:
                return
            holder = None
            if request.taken_by_id is not None:
                taker = await session.get(User, request.taken_by_id)
                holder = (taker.display_name or taker.email) if taker else None
            status = str(request.status)

        async def update() -> None:
            shown = blocks
            if shown is None:
                history = await self.slack._call(self.slack.client.conversations_history(
                    channel=self.channel, latest=thread, inclusive=True, limit=1))
                found = [m for m in history.get("messages") or [] if m.get("ts") == thread]
                if not found:
                    return
                shown = found[0].get("blocks") or []
            new = desk_post.with_status(shown, status, holder)
            await self.slack._call(self.slack.client.chat_update(
                channel=self.channel, ts=thread, blocks=new,
                text=escape(desk_post.status_text(status, holder))))

        self.slack.sender.submit(self.channel, [Job(update, "chat.update")])

    def _tell(self, user: str, thread: str, text: str) -> None:
        """A note only `user` sees, in the thread where they acted."""
        self.slack.sender.submit(self.channel, [Job(lambda: self.slack._call(
            self.slack.client.chat_postEphemeral(channel=self.channel, user=user,
                                                 thread_ts=thread, text=escape(text),
                                                 blocks=[{"type": "section", "text": {
                                                     "type": "mrkdwn",
                                                     "text": escape(text)}}])),
            "chat.postEphemeral")])

    # -- who is answering ------------------------------------------------------------------

    async def _person(self, user: str) -> SlackPerson:
        """The Slack user's e-mail address (users.info), remembered for a while."""
        known = self._people.get(user)
        if known is not None and known[0] > time.monotonic():
            return known[1]
        try:
            answer = await self.slack._call(self.slack.client.users_info(user=user))
            found = answer.get("user") or {}
        except (Undeliverable, RetryAfter, SlackApiError) as problem:
            logs.event(log, "desk.users_info_failed", logging.WARNING, error=str(problem)[:200])
            return SlackPerson(None, _("Chatcart could not look up your Slack account just "
                                       "now. Please try again in a moment."))
        home = await self._workspace()
        if home is None:
            return SlackPerson(None, _("Chatcart could not look up your Slack account just "
                                       "now. Please try again in a moment."))
        email = (found.get("profile") or {}).get("email")
        if not self._member(found, home):
            person = SlackPerson(None, _("Only Chatcart's staff can answer shoppers here."))
        elif found.get("is_email_confirmed") is False:
            person = SlackPerson(None, _("Your Slack account's e-mail address is not "
                                         "confirmed yet, so Chatcart cannot tell which staff "
                                         "account is yours. Nothing was sent to the shopper."))
        elif not isinstance(email, str) or not email:
            person = SlackPerson(None, _("Chatcart cannot see your Slack account's e-mail "
                                         "address, so it cannot tell which staff account is "
                                         "yours. Nothing was sent to the shopper."))
        else:
            person = SlackPerson(email)
        self._people[user] = (time.monotonic() + (KNOWN_FOR if person.email else UNKNOWN_FOR),
                              person)
        return person

    async def _workspace(self) -> tuple[str, str | None] | None:
        """The workspace (team id, and enterprise id for an org-wide install) the app is
        installed in, from auth.test, asked once; None when Slack cannot say just now."""
        if self._home is None:
            try:
                answer = await self.slack._call(self.slack.client.auth_test())
            except (Undeliverable, RetryAfter, SlackApiError) as problem:
                logs.event(log, "desk.auth_test_failed", logging.WARNING,
                           error=str(problem)[:200])
                return None
            team, enterprise = answer.get("team_id"), answer.get("enterprise_id")
            if not isinstance(team, str) or not team:
                return None
            self._home = (team, enterprise if answer.get("is_enterprise_install")
                          and isinstance(enterprise, str) and enterprise else None)
        return self._home

    @staticmethod
    def _member(found: dict[str, Any], home: tuple[str, str | None]) -> bool:
        """A full member of the app's own workspace: not a guest (single- or multi-channel),
        not someone from another organisation in a shared channel, not a bot, not deleted."""
        if any(found.get(flag) for flag in ("deleted", "is_bot", "is_restricted",
                                             "is_ultra_restricted", "is_stranger")):
            return False
        team, enterprise = home
        if found.get("team_id") == team:
            return True
        theirs = (found.get("enterprise_user") or {}).get("enterprise_id")
        return enterprise is not None and theirs == enterprise

    @staticmethod
    async def _staff(session: Any, person: SlackPerson) -> User | str:
        """The Chatcart staff account of this Slack user, or why there is none."""
        if person.email is None:
            return person.why_not or ""
        try:
            address = normalize_email(person.email)
        except InvalidInput:
            address = ""
        user = await session.scalar(select(User).where(User.email == address)) \
            if address else None
        if user is None or user.role not in STAFF_ROLES or not user.is_active \
                or user.locked_at is not None:
            return _("Your Slack account ({email}) is not a Chatcart staff account, so your "
                     "message was not sent to the shopper. An admin can add you with "
                     "`chatcart admin create-user --email {email} --role support`.",
                     email=person.email)
        return user

    @staticmethod
    def _actor(staff: User, slack_user: str) -> Actor:
        return Actor(Channel.SLACK, user_id=staff.id, label=f"slack:{slack_user}"[:64])
