"""Recording and reading audit events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.actor import Actor
from core.audit.models import AuditEvent


async def record(
    *, session: AsyncSession, actor: Actor, action: str, subject_type: str,
    subject_id: object, data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to the caller's transaction: it commits or rolls back with the change."""
    event = AuditEvent(
        action=action, subject_type=subject_type, subject_id=str(subject_id),
        actor_user_id=actor.user_id, actor_identity_id=actor.identity_id,
        actor_label=actor.label, channel=str(actor.channel), data=data or {},
    )
    session.add(event)
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
                 limit: int = 100) -> list[AuditEvent]:
    """The newest events, optionally those whose action starts with `action` (e.g. "order.")
    or about one kind of thing ("order", "user", "product")."""
    query = select(AuditEvent)
    if action.strip():
        query = query.where(AuditEvent.action.startswith(action.strip()[:64], autoescape=True))
    if subject_type.strip():
        query = query.where(AuditEvent.subject_type == subject_type.strip()[:32])
    rows = await session.scalars(query.order_by(AuditEvent.occurred_at.desc(),
                                                AuditEvent.id.desc()).limit(limit))
    return list(rows)
