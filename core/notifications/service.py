"""The notification service: an event, told to its recipients on their channels, once.

`notify` renders the event per channel (core.notifications.render) and queues each
delivery through the durable outbox (core.outbox) in the caller's transaction, so the
message goes if and only if the change that caused it commits, with the outbox's retries.
A `NotificationDelivery` row per (event, recipient, channel), under a unique key, makes a
replayed event (a webhook delivered twice, a job run again) reach nobody twice.

Chat deliveries go to the recipient's chat key as today's notices did. Mail goes to the
outbox key `email:notice-<delivery id>`; the rendered mail waits sealed on the delivery
row, and the bot's mail channel (bot/notice_mail.py) opens and sends it.

`_permitted` is the one place that decides whether a recipient hears of an event on a
channel: shopper preferences, consent and quiet hours belong there.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.crypto import Vault
from core.notifications.events import Channel, Event, Recipient
from core.notifications.models import NotificationDelivery
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


def notice_chat_key(delivery_id: int) -> str:
    return f"{EMAIL_PLATFORM}:{NOTICE_MAIL}-{delivery_id}"


def _permitted(event: Event, recipient: Recipient) -> bool:
    """Whether `recipient` hears of `event` on its channel. Preferences plug in here
    (account and security always on, marketing only with consent, quiet hours)."""
    return recipient.channel is not Channel.SMS  # no SMS channel yet


def _sendable(parts: Rendered, channel: Channel) -> bool:
    if channel is Channel.CHAT:
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


async def notify(*, session: AsyncSession, event: Event,
                 recipients: Sequence[Recipient]) -> list[NotificationDelivery]:
    """Queue `event` for each recipient on its channel; returns the deliveries made now
    (none for a recipient that already had this event on that channel)."""
    made: list[NotificationDelivery] = []
    rendered: dict[str | None, Rendered] = {}
    for recipient in recipients:
        if not recipient.address or not _permitted(event, recipient):
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
                                 buttons=event.buttons or None)
        elif recipient.channel is Channel.EMAIL:
            vault = session.info.get(outbox.VAULT)
            if not isinstance(vault, Vault):
                raise RuntimeError("notify needs the shop's Vault in session.info")
            delivery.content_sealed = vault.seal({
                "to": recipient.address, "subject": parts.subject, "text": parts.text,
                "html": parts.html})
            await outbox.enqueue(session=session, chat_key=notice_chat_key(delivery.id),
                                 text=parts.subject or "")
        made.append(delivery)
    return made


async def mail_for(*, session: AsyncSession, delivery_id: int,
                   vault: Vault) -> dict[str, str | None] | None:
    """The rendered mail of an email delivery (to, subject, text, html, and the delivery's
    key); None when it is
    gone or cannot be opened (sealed with a key this shop no longer has)."""
    delivery = await session.get(NotificationDelivery, delivery_id)
    if delivery is None or delivery.content_sealed is None:
        return None
    try:
        content = vault.open(delivery.content_sealed)
    except ValueError:
        log.warning("notify.unreadable delivery=%s", delivery_id)
        return None
    return {**content, "key": delivery.key} if isinstance(content, dict) else None


async def mail_done(*, session: AsyncSession, delivery_id: int) -> None:
    """Sent or given up: the sealed mail (a receipt quotes an address) is not kept; the
    row stays, so a replay is still recognised."""
    delivery = await session.get(NotificationDelivery, delivery_id)
    if delivery is not None:
        delivery.content_sealed = None
