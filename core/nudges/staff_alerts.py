"""Alerts for staff, batched: a product running low, a shopper nobody took in time.

Each alert is a row (`StaffAlert`) added in the transaction of what caused it, so none is
lost to a restart. `send_due` waits until the oldest unsent alert is `window` old, then
sends ONE summary per destination (the Slack alerts channel, each active admin by mail)
listing counts and the first names, and marks the alerts sent in the same transaction:
a restock or an import of 500 products crossing their thresholds is one message, not 500.
Several sweepers are safe: the alerts are claimed FOR UPDATE SKIP LOCKED on PostgreSQL,
and SQLite's BEGIN IMMEDIATE lets one writer at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import Role, User
from core.catalog.models import Product
from core.clock import now
from core.db import PURGE_CHUNK, bounded_delete
from core.i18n import _
from core.nudges.models import StaffAlert
from core.outbox import service as outbox

LOW_STOCK, WAITING = "low_stock", "waiting"
FIRST = 10              # names listed per kind; the rest are counted
LIMIT = 5000            # alerts per summary; more wait for the next one
EMAIL_PLATFORM = "email"
ALERTS_MAIL = "alerts"  # outbox key `email:alerts-<admin id>` (bot/support_mail.py)
KEEP = timedelta(days=7)  # sent alerts are kept this long


def alerts_mail_key(user_id: int) -> str:
    return f"{EMAIL_PLATFORM}:{ALERTS_MAIL}-{user_id}"


async def low_stock(*, session: AsyncSession, product_id: int) -> None:
    """A product crossed its low-stock threshold (core.inventory.watch_threshold)."""
    name = await session.scalar(select(Product.name).where(Product.id == product_id))
    session.add(StaffAlert(kind=LOW_STOCK, subject_id=product_id, label=(name or "")[:200]))


async def shopper_waiting(*, session: AsyncSession, handoff_id: int) -> None:
    """A shopper has waited too long for a person (core.support.conversations.escalate)."""
    session.add(StaffAlert(kind=WAITING, subject_id=handoff_id, label=""))


def _listed(names: Sequence[str], total: int) -> str:
    shown = ", ".join(names[:FIRST])
    if total > len(names[:FIRST]):
        return _("{names} and {count} more", names=shown, count=total - len(names[:FIRST]))
    return shown


def summary(alerts: Sequence[StaffAlert], console_url: str) -> str:
    """One message for a batch: per kind, how many, the first few, where to act."""
    low = [alert for alert in alerts if alert.kind == LOW_STOCK]
    waiting = [alert for alert in alerts if alert.kind == WAITING]
    parts = []
    if low:
        parts.append(_("{count} product(s) are running low on stock: {names}. "
                       "See the stock page: {link}", count=len(low),
                       names=_listed([alert.label for alert in low], len(low)),
                       link=f"{console_url}/stock"))
    if waiting:
        parts.append(_("{count} shopper(s) are waiting for a person and nobody has taken "
                       "them yet (conversations {numbers}). Answer them in the console: {link}",
                       count=len(waiting), link=f"{console_url}/handoffs",
                       numbers=_listed([str(alert.subject_id) for alert in waiting],
                                       len(waiting))))
    return "\n\n".join(parts)


async def send_due(*, session: AsyncSession, window: timedelta, alert_key: str | None,
                   console_url: str) -> int:
    """Send the pending alerts as one summary per destination once the oldest is `window`
    old; returns how many alerts went (0: none due)."""
    oldest = await session.scalar(select(func.min(StaffAlert.created_at))
                                  .where(StaffAlert.sent_at.is_(None)))
    if oldest is None:
        return 0
    if oldest.tzinfo is None:  # SQLite returns the aggregate naive (UTC)
        oldest = oldest.replace(tzinfo=now().tzinfo)
    if oldest > now() - window:
        return 0
    alerts = list(await session.scalars(
        select(StaffAlert).where(StaffAlert.sent_at.is_(None)).order_by(StaffAlert.id)
        .limit(LIMIT).with_for_update(skip_locked=True)))
    if not alerts:
        return 0
    claimed = await session.execute(
        update(StaffAlert).where(StaffAlert.id.in_([alert.id for alert in alerts]),
                                 StaffAlert.sent_at.is_(None))
        .values(sent_at=now()).execution_options(synchronize_session=False))
    if claimed.rowcount != len(alerts):  # type: ignore[attr-defined]
        raise RuntimeError("staff alerts claimed twice")  # the transaction rolls back
    text = summary(alerts, console_url)
    if alert_key:
        await outbox.enqueue(session=session, chat_key=alert_key, text=text)
    for admin_id in await session.scalars(select(User.id).where(
            User.is_active, User.role == Role.ADMIN).order_by(User.id)):
        await outbox.enqueue(session=session, chat_key=alerts_mail_key(admin_id), text=text)
    return len(alerts)


async def purge_sent(*, session: AsyncSession, limit: int = PURGE_CHUNK) -> int:
    """Alerts sent more than KEEP ago go, at most `limit` a call."""
    result = await session.execute(bounded_delete(
        StaffAlert, StaffAlert.sent_at < now() - KEEP, limit=limit))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
