"""Chat identities: a platform user becomes a guest on first contact; linking joins an account."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.errors import AccountError
from core.accounts.models import ChatIdentity, User
from core.audit import service as audit
from core.audit.actor import Actor
from core.clock import now
from core.db import insert_or_ignore
from core.errors import Conflict

SEEN_EVERY = timedelta(minutes=5)  # last_seen_at is that precise: no write on every message
# Built once: this runs on every chat message, and building a query costs as much as
# running it.
_BY_PLATFORM_USER = select(ChatIdentity).where(
    ChatIdentity.platform == bindparam("platform"),
    ChatIdentity.platform_user_id == bindparam("platform_user_id"))


async def identify(
    *, session: AsyncSession, platform: str, platform_user_id: str, display_name: str = ""
) -> ChatIdentity:
    """The identity for a platform user, created as a guest the first time."""
    who = {"platform": platform, "platform_user_id": platform_user_id}
    identity = await session.scalar(_BY_PLATFORM_USER, who)
    if identity is None:
        await insert_or_ignore(
            session, ChatIdentity,
            {"platform": platform, "platform_user_id": platform_user_id,
             "display_name": display_name[:120], "created_at": now(), "last_seen_at": now()},
            ["platform", "platform_user_id"])
        identity = await session.scalar(_BY_PLATFORM_USER, who)
        assert identity is not None
    elif identity.last_seen_at < now() - SEEN_EVERY:
        identity.last_seen_at = now()
    return identity


async def link(
    *, session: AsyncSession, identity: ChatIdentity, user: User, actor: Actor
) -> ChatIdentity:
    """Attach an identity to an account (idempotent); another account's identity is refused."""
    if identity.user_id == user.id:
        return identity
    if identity.user_id is not None:
        raise Conflict(AccountError.IDENTITY_LINKED_ELSEWHERE,
                       "This chat is already linked to another account; unlink it first.")
    identity.user_id = user.id
    await audit.record(session=session, actor=actor, action="account.identity_linked",
                       subject_type="user", subject_id=user.id,
                       data={"platform": identity.platform, "identity_id": identity.id})
    return identity


async def unlink(*, session: AsyncSession, identity: ChatIdentity, actor: Actor) -> None:
    if identity.user_id is None:
        return
    user_id = identity.user_id
    identity.user_id = None
    await audit.record(session=session, actor=actor, action="account.identity_unlinked",
                       subject_type="user", subject_id=user_id,
                       data={"platform": identity.platform, "identity_id": identity.id})


async def for_user(*, session: AsyncSession, user_id: int) -> list[ChatIdentity]:
    rows = await session.scalars(
        select(ChatIdentity).where(ChatIdentity.user_id == user_id).order_by(ChatIdentity.id))
    return list(rows)
