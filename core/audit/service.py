"""Recording and reading audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import news
from core.audit.actor import Actor
from core.audit.models import AuditEvent
from core.paging import Paged, paged


async def record(
    *, session: AsyncSession, actor: Actor, action: str, subject_type: str,
    subject_id: object, data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to the caller's transaction: it commits or rolls back with the change
    (and, when staff hear of its kind, is told to them once it has committed)."""
    event = AuditEvent(
        action=action, subject_type=subject_type, subject_id=str(subject_id),
        actor_user_id=actor.user_id, actor_identity_id=actor.identity_id,
        actor_label=actor.label, channel=str(actor.channel), data=data or {},
    )
    session.add(event)
    news.announce(session, event)
    return event


async def history(
    *, session: AsyncSession, subject_type: str, subject_id: object
) -> list[AuditEvent]:
    """Events about one thing, oldest first."""
    rows = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject_type == subject_type,
               AuditEvent.subject_id == str(subject_id))
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    return list(rows)


async def recent(*, session: AsyncSession, action: str = "", subject_type: str = "",
                 who: str = "", since: datetime | None = None, until: datetime | None = None,
                 page: int = 1, per_page: int = 100) -> Paged[AuditEvent]:
    """The newest events, optionally those whose action starts with `action` (e.g. "order."),
    about one kind of thing ("order", "user", "product"), by someone whose label contains
    `who` (an email), at or after `since` and before `until`."""
    query = select(AuditEvent)
    if action.strip():
        query = query.where(AuditEvent.action.startswith(action.strip()[:64], autoescape=True))
    if subject_type.strip():
        query = query.where(AuditEvent.subject_type == subject_type.strip()[:32])
    if who.strip():
        query = query.where(func.lower(AuditEvent.actor_label).contains(
            who.strip()[:120].lower(), autoescape=True))
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEvent.occurred_at < until)
    return await paged(session, query.order_by(AuditEvent.occurred_at.desc(),
                                               AuditEvent.id.desc()),
                       page=page, per_page=per_page)
