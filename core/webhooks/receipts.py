"""Claiming a delivery inside the transaction that processes it.

The claim and the work commit together: a delivery whose work rolled back can be
retried, and a second copy (a platform retry, another process) finds the claim and
does nothing. On PostgreSQL the second copy waits on the unique index until the first
commits, so even simultaneous copies run once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.db import insert_or_ignore
from core.webhooks.models import WebhookReceipt

KEEP = timedelta(days=3)  # platforms retry for hours at most (Telegram ~24 h, Slack ~1 h)


async def claim(*, session: AsyncSession, source: str, event_id: str) -> bool:
    """True the first time this delivery is seen; False for every copy after."""
    return await insert_or_ignore(
        session, WebhookReceipt,
        {"source": source[:48], "event_id": event_id[:128], "received_at": now()},
        ["source", "event_id"])


async def purge_old(*, session: AsyncSession, keep: timedelta = KEEP) -> int:
    result = await session.execute(
        delete(WebhookReceipt).where(WebhookReceipt.received_at < now() - keep))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
