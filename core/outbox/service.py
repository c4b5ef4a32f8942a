"""Queueing a message for a chat, and handing pending ones to whoever delivers them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.outbox.models import OutboxMessage


async def enqueue(*, session: AsyncSession, chat_key: str, text: str,
                  buttons: list[list[dict[str, str]]] | None = None,
                  links: list[dict[str, str]] | None = None) -> OutboxMessage:
    message = OutboxMessage(chat_key=chat_key, payload={
        "text": text, "buttons": buttons or [], "links": links or []})
    session.add(message)
    await session.flush()
    return message


async def claim_pending(*, session: AsyncSession, platforms: list[str] | None = None,
                        limit: int = 50) -> list[OutboxMessage]:
    """Pending messages for `platforms`, oldest first, marked sent in this transaction.

    `FOR UPDATE SKIP LOCKED` on PostgreSQL: several processes never take the same one.
    A delivery that fails after the claim is retried by the channel's sender.
    """
    if platforms is not None and not platforms:
        return []
    query = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
    if platforms is not None:  # only what this process has a channel for
        query = query.where(or_(*(OutboxMessage.chat_key.startswith(f"{name}:")
                                  for name in platforms)))
    query = query.order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)
    messages = list(await session.scalars(query))
    if messages:
        await session.execute(update(OutboxMessage).where(
            OutboxMessage.id.in_([m.id for m in messages])).values(sent_at=now()))
    return messages




async def purge_sent(*, session: AsyncSession, keep: timedelta = timedelta(days=1)) -> int:
    """Delivered messages go after a day: they may quote a shopper's address."""
    result = await session.execute(delete(OutboxMessage).where(
        OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < now() - keep))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
