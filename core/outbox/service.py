"""Queueing a message for a chat, and handing pending ones to whoever delivers them.

A message is claimed on a lease, delivered, then marked sent; a failure puts it back with
a growing pause, and after `MAX_ATTEMPTS` it is given up (and logged by the deliverer).

What a message says is sealed with the shop's Vault as it is queued (an order's
confirmation quotes the shopper's name and address, and waits up to `KEEP` for a web
chat to come back): the row, the database file and its WAL hold only the sealed token.
The key comes with the session (`VAULT` in `session.info`, put there by Shop), so that
whatever queues a message needs no key of its own. The deliverer opens the payload with
`opened`. Rows queued before sealing began hold the payload as it is, and are delivered
as they are; they go with `purge_sent` as ever.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.crypto import Vault
from core.outbox.models import OutboxMessage

log = logging.getLogger("chatcart.outbox")
QUEUED = "chatcart.outbox.queued"  # session.info key: chat keys given messages in it
VAULT = "chatcart.vault"           # session.info key: the Vault payloads are sealed with
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12                      # 5 s doubling, capped: about 1.7 hours of tries
BACKOFF_CAP = timedelta(minutes=30)
KEEP = timedelta(days=7)               # an undelivered message older than this is dropped


async def enqueue(*, session: AsyncSession, chat_key: str, text: str,
                  buttons: list[list[dict[str, str]]] | None = None,
                  links: list[dict[str, str]] | None = None,
                  not_before: datetime | None = None) -> OutboxMessage:
    vault = session.info.get(VAULT)
    if not isinstance(vault, Vault):
        raise RuntimeError("outbox.enqueue needs the shop's Vault in session.info[VAULT]")
    sealed = vault.seal({"text": text, "buttons": buttons or [], "links": links or []})
    message = OutboxMessage(chat_key=chat_key, payload={"sealed": sealed},
                            next_attempt_at=not_before)  # quiet hours: waits until then
    session.add(message)
    await session.flush()
    session.info.setdefault(QUEUED, set()).add(chat_key)  # Shop.transaction tells listeners
    return message


def opened(payload: dict[str, Any], vault: Vault) -> dict[str, Any] | None:
    """A message's text, buttons and links as queued; None when it was sealed with a key
    this shop no longer has (nothing can ever read it: the deliverer gives it up)."""
    token = payload.get("sealed")
    if not isinstance(token, str):
        return payload  # queued before payloads were sealed
    try:
        return vault.open(token)
    except ValueError:
        log.warning("outbox.unreadable reason=sealed_with_another_key")
        return None


def _due() -> list[object]:
    moment = now()
    return [OutboxMessage.sent_at.is_(None), OutboxMessage.gave_up_at.is_(None),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < moment),
            or_(OutboxMessage.next_attempt_at.is_(None),
                OutboxMessage.next_attempt_at <= moment)]


async def claim(*, session: AsyncSession, platforms: Sequence[str] | None = None,
                chat_keys: Sequence[str] | None = None, lease: timedelta = LEASE,
                limit: int = 50) -> list[OutboxMessage]:
    """Messages due for `platforms` (or these chats), oldest first, leased to the caller.

    `FOR UPDATE SKIP LOCKED` on PostgreSQL: several processes never take the same one.
    """
    if (platforms is not None and not platforms) or (chat_keys is not None and not chat_keys):
        return []
    query = select(OutboxMessage).where(*_due())
    if platforms is not None:  # only what the caller has a channel for
        query = query.where(or_(*(OutboxMessage.chat_key.startswith(f"{name}:")
                                  for name in platforms)))
    if chat_keys is not None:
        query = query.where(OutboxMessage.chat_key.in_(chat_keys))
    query = query.order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)
    messages = list(await session.scalars(query))
    if messages:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_([m.id for m in messages]))
            .values(claimed_until=now() + lease, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session="fetch"))
    return messages


async def renew(*, session: AsyncSession, message_id: int, lease: timedelta = LEASE) -> None:
    """Keep holding a message whose delivery is still under way (queued behind a chat's
    other messages, or waiting out the platform's pause), so nobody else sends it too."""
    await session.execute(update(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
        .values(claimed_until=now() + lease))


async def delivered(*, session: AsyncSession, message_ids: Sequence[int]) -> None:
    if message_ids:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(message_ids))
                              .values(sent_at=now(), claimed_until=None))


async def failed(*, session: AsyncSession, message_id: int, error: str,
                 final: bool = False) -> bool:
    """Put a message back for a later try, or give it up (`final`: retrying cannot help, or
    after MAX_ATTEMPTS); True when it was given up."""
    message = await session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.sent_at is not None:
        return False
    message.claimed_until, message.last_error = None, error[:200]
    if final or message.attempts >= MAX_ATTEMPTS:
        message.gave_up_at = now()
        return True
    pause = min(BACKOFF_CAP, timedelta(seconds=5 * 2 ** (message.attempts - 1)))
    message.next_attempt_at = now() + pause
    return False


async def purge_sent(*, session: AsyncSession, keep: timedelta = timedelta(days=1)) -> int:
    """Delivered (or given up) messages go after a day, and any message after KEEP (a web
    chat nobody opened again): they may quote a shopper's address."""
    cutoff = now() - keep
    result = await session.execute(delete(OutboxMessage).where(or_(
        and_(OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < cutoff),
        and_(OutboxMessage.gave_up_at.is_not(None), OutboxMessage.gave_up_at < cutoff),
        OutboxMessage.created_at < now() - KEEP)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
