"""What the shop tells a person when something changes on their account: a chat linked or
unlinked, the email address or password changed, a staff role changed. These are account
and security notices: always sent (no preference turns them off), by mail to the account's
address (and, for a new address, to the old one too), because the person to warn is the
owner, who may not be the one in the chat that made the change.

Each notice is keyed by the audit event of the change, so a change made once is told once
and a repeated request that changed nothing (already linked) tells nobody.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.audit.models import AuditEvent
from core.notifications import service as notifications
from core.notifications.events import Channel, Event, Recipient
from core.notifications.mail import masked_address
from core.notifications.preferences import holder_for
from core.outbox.service import VAULT

PLATFORMS = {"telegram": "Telegram", "slack": "Slack", "web": "web", "terminal": "terminal"}


async def _tell(session: AsyncSession, user: User, kind: str, change: AuditEvent,
                also: str | None = None, **context: Any) -> None:
    await session.flush()  # the audit event's id names this change
    recipients = [Recipient(Channel.EMAIL, user.email)]
    if also and also.lower() != user.email.lower():
        recipients.append(Recipient(Channel.EMAIL, also))
    event = Event(kind=kind, subject=f"user:{user.id}", occurrence=f"audit-{change.id}",
                  context=context)
    await notifications.notify(session=session, event=event, recipients=recipients,
                               holder=holder_for(session.info[VAULT], user_id=user.id))


async def chat_linked(session: AsyncSession, user: User, platform: str,
                      change: AuditEvent) -> None:
    await _tell(session, user, "account_chat_linked", change,
                platform=PLATFORMS.get(platform, platform))


async def chat_unlinked(session: AsyncSession, user: User, platform: str,
                        change: AuditEvent) -> None:
    await _tell(session, user, "account_chat_unlinked", change,
                platform=PLATFORMS.get(platform, platform))


async def email_changed(session: AsyncSession, user: User, old_email: str,
                        change: AuditEvent) -> None:
    """Told to both addresses: the old one is where the owner hears of a change they did
    not make."""
    await _tell(session, user, "account_email_changed", change, also=old_email,
                new=masked_address(user.email))


async def password_changed(session: AsyncSession, user: User, change: AuditEvent) -> None:
    await _tell(session, user, "account_password_changed", change)


async def role_changed(session: AsyncSession, user: User, change: AuditEvent) -> None:
    await _tell(session, user, "account_role_changed", change, role=user.role.value)
