"""The notification service: an event, told to its recipients on their channels, once.

`notify` renders the event per channel (core.notifications.render) and queues each
delivery through the durable outbox (core.outbox) in the caller's transaction, so the
message goes if and only if the change that caused it commits, with the outbox's retries.
A `NotificationDelivery` row per (event, recipient, channel), under a unique key, makes a
replayed event (a webhook delivered twice, a job run again) reach nobody twice.

Chat deliveries go to the recipient's chat key as today's notices did. Mail goes to the
outbox key `email:notice-<delivery id>`; the rendered mail waits sealed on the delivery
row, and the bot's mail channel (bot/notice_mail.py) opens and sends it.

`_permitted` is the one place that decides whether and when a recipient hears of an event
on a channel, from the holder's choices (core.notifications.preferences): account and
security always, marketing only after a yes, SMS only to an agreed number, and anything
not urgent held back to the end of quiet hours (the outbox row waits until then).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.crypto import Vault
from core.db import PURGE_CHUNK, bounded_delete
from core.notifications import preferences
from core.notifications.events import Channel, Event, Recipient
from core.notifications.kinds import KINDS, Category, kind_of
from core.notifications.models import NotificationDelivery
from core.notifications.preferences import Choices
from core.notifications.render import Rendered, render
from core.outbox import service as outbox

log = logging.getLogger("chatcart.notifications")
EMAIL_PLATFORM = "email"   # the outbox platform of mail (as core.support's answers by mail)
NOTICE_MAIL = "notice"     # outbox key `email:notice-<delivery id>`


def delivery_key(event: Event, recipient: Recipient) -> str:
    """A hash, so that the kept row holds no address in clear."""
    address = recipient.address.strip()
    if recipient.channel is Channel.EMAIL:
        address = address.lower()
    raw = f"{event.identity}|{recipient.channel.value}|{address}"
    return hashlib.sha256(raw.encode()).hexdigest()


def notice_chat_key(delivery_id: int, channel: Channel = Channel.EMAIL) -> str:
    """The outbox key of a delivery that is not a chat message: `email:notice-12`,
    `sms:notice-13`, `push:notice-14` (the outbox routes by the part before the colon)."""
    return f"{channel.value}:{NOTICE_MAIL}-{delivery_id}"


def mail_holder(vault: Vault, holders: Sequence[str], address: str) -> str | None:
    """The holder a mail to `address` signs its settings link and List-Unsubscribe for:
    the one its recipient's inbox proves. An account's (`user:`) for an account's news,
    else the `email:` holder of that very address, never a chat's."""
    account = next((holder for holder in holders if holder.startswith("user:")), None)
    return account or preferences.holder_for(vault, email=address)


def _content(event: Event, recipient: Recipient, parts: Rendered, holders: list[str],
             vault: Vault) -> dict[str, Any]:
    """What the channel's sender needs, sealed until it sends, with what `still_wanted`
    reads again then: whose choices it went under, its category and kind. Mail also names
    the holder its reader's link is signed for (core.notifications.links)."""
    again = {"holders": holders, "category": kind_of(event.kind).category.value,
             "kind": event.kind}
    if recipient.channel is Channel.EMAIL:
        return {"to": recipient.address, "subject": parts.subject, "text": parts.text,
                "html": parts.html, "holder": mail_holder(vault, holders, recipient.address),
                "locale": recipient.locale, **again}
    if recipient.channel is Channel.SMS:
        return {"to": recipient.address, "text": parts.sms, **again}
    return {"to": recipient.address, "title": parts.subject, "body": parts.chat, **again}


def _permitted(event: Event, recipient: Recipient, choices: Choices, moment: datetime
               ) -> tuple[bool, datetime | None]:
    """Whether `recipient` hears of `event` on its channel, and not before when."""
    kind = kind_of(event.kind)
    if not preferences.allowed(kind.category, recipient.channel, choices):
        return False, None
    return True, preferences.not_before(moment, choices, urgent=kind.urgent)


def _sendable(parts: Rendered, channel: Channel) -> bool:
    if channel in (Channel.CHAT, Channel.PUSH):
        return bool(parts.chat)
    if channel is Channel.EMAIL:
        return bool(parts.subject and parts.text)
    return bool(parts.sms)


async def _claim(session: AsyncSession, event: Event, recipient: Recipient
                 ) -> NotificationDelivery | None:
    """A new delivery row, or None when this (event, recipient, channel) had one already."""
    key = delivery_key(event, recipient)
    if await session.scalar(select(NotificationDelivery.id)
                            .where(NotificationDelivery.key == key)) is not None:
        return None
    delivery = NotificationDelivery(key=key, kind=event.kind[:40], subject=event.subject[:80],
                                    channel=recipient.channel.value)
    try:
        async with session.begin_nested():  # a racing replay loses here, not the transaction
            session.add(delivery)
            await session.flush()
    except IntegrityError:
        return None
    return delivery


async def notify(*, session: AsyncSession, event: Event, recipients: Sequence[Recipient],
                 holder: str | Sequence[str] | None = None) -> list[NotificationDelivery]:
    """Queue `event` for each recipient on its channel, as the holder's choices allow
    (`preferences.holder_for`; several: `Choices.combined`, any off wins; None: the
    defaults); returns the deliveries made now (none for a recipient that already had this
    event on that channel)."""
    made: list[NotificationDelivery] = []
    rendered: dict[str | None, Rendered] = {}
    holders = preferences.holders_of(holder)
    choices = await preferences.choices_of(session=session, holder=holders)
    moment = now()
    for recipient in recipients:
        if not recipient.address:
            continue
        permitted, wait_until = _permitted(event, recipient, choices, moment)
        if not permitted:
            log.info("notify.not_wanted kind=%s channel=%s", event.kind,
                     recipient.channel.value)
            continue
        if recipient.locale not in rendered:
            rendered[recipient.locale] = render(event.kind, event.context, recipient.locale)
        parts = rendered[recipient.locale]
        if not _sendable(parts, recipient.channel):
            continue
        delivery = await _claim(session, event, recipient)
        if delivery is None:
            log.info("notify.duplicate kind=%s subject=%s channel=%s", event.kind,
                     event.subject, recipient.channel.value)
            continue
        if recipient.channel is Channel.CHAT:
            assert parts.chat is not None
            await outbox.enqueue(session=session, chat_key=recipient.address, text=parts.chat,
                                 buttons=event.buttons or None, not_before=wait_until)
        else:  # sealed on the delivery row; the channel's sender opens it (sealed_for)
            vault = session.info.get(outbox.VAULT)
            if not isinstance(vault, Vault):
                raise RuntimeError("notify needs the shop's Vault in session.info")
            delivery.content_sealed = vault.seal(_content(event, recipient, parts, holders,
                                                         vault))
            await outbox.enqueue(session=session,
                                 chat_key=notice_chat_key(delivery.id, recipient.channel),
                                 text=parts.subject or event.kind, not_before=wait_until)
        made.append(delivery)
    return made


async def sealed_for(*, session: AsyncSession, delivery_id: int,
                     vault: Vault) -> dict[str, Any] | None:
    """The rendered message of a delivery that is not a chat message (mail: to, subject,
    text, html, category; SMS: to, text), plus the delivery's key; None when it is gone or
    cannot be opened (sealed with a key this shop no longer has)."""
    delivery = await session.get(NotificationDelivery, delivery_id)
    if delivery is None or delivery.content_sealed is None:
        return None
    try:
        content = vault.open(delivery.content_sealed)
    except ValueError:
        log.warning("notify.unreadable delivery=%s", delivery_id)
        return None
    return {**content, "key": delivery.key} if isinstance(content, dict) else None


mail_for = sealed_for


async def still_wanted(*, session: AsyncSession, content: dict[str, Any],
                       channel: Channel) -> bool:
    """Read again as a sealed message is about to go (after quiet hours or a retry):
    whether its holders' choices still allow it, and for SMS whether its number is still
    one they agreed to. A message sealed before this was kept (no holders) goes."""
    if "holders" not in content:
        return True
    holders = preferences.holders_of(content.get("holders"))
    kind = KINDS.get(str(content.get("kind")))
    category = kind.category if kind else Category(str(content.get("category")))
    choices = await preferences.choices_of(session=session, holder=holders)
    if not preferences.allowed(category, channel, choices):
        return False
    if channel is Channel.SMS:
        vault = session.info.get(outbox.VAULT)
        if not isinstance(vault, Vault):
            raise RuntimeError("still_wanted needs the shop's Vault in session.info")
        agreed = await preferences.agreed_numbers(session=session, holder=holders, vault=vault)
        return str(content.get("to")) in agreed
    return True


async def done(*, session: AsyncSession, delivery_id: int) -> None:
    """Sent or given up: the sealed message (a receipt quotes an address) is not kept; the
    row stays, so a replay is still recognised."""
    delivery = await session.get(NotificationDelivery, delivery_id)
    if delivery is not None:
        delivery.content_sealed = None


mail_done = done

KEEP = timedelta(days=90)


async def purge_old(*, session: AsyncSession, keep: timedelta = KEEP,
                    limit: int = PURGE_CHUNK) -> int:
    """Forget deliveries older than `keep`: long past any replay of the event by a
    platform or gateway (Stripe retries for 3 days, PayPal for a few), and what is left of
    them is only a hash and a kind. A message still waiting for its channel by then has
    been given up by the outbox long before. At most `limit` rows a call (the sweeper
    calls again while a whole chunk went)."""
    result = await session.execute(bounded_delete(
        NotificationDelivery, NotificationDelivery.created_at < now() - keep, limit=limit))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
