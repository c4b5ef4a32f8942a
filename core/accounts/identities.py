"""Chat identities: a platform user becomes a guest on first contact; linking joins an account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import notices
from core.accounts.errors import AccountError
from core.accounts.models import ChatIdentity, User
from core.audit import service as audit
from core.audit.actor import Actor
from core.clock import now
from core.db import insert_or_ignore, run
from core.errors import Conflict

SEEN_EVERY = timedelta(minutes=5)  # last_seen_at is that precise: no write on every message


@dataclass(frozen=True, slots=True)
class Seen:
    """Who wrote a chat message: their identity and its account, if linked."""
    identity_id: int
    user_id: int | None


# Built once, read as plain rows: this runs on every chat message, where loading an ORM
# object cost more than the statement. Only the few places that change an identity
# (link, unlink) load the object.
_identities = ChatIdentity.__table__.c
_SEEN = select(_identities.id, _identities.user_id, _identities.last_seen_at).where(
    _identities.platform == bindparam("platform"),
    _identities.platform_user_id == bindparam("platform_user_id"))
_TOUCH = update(ChatIdentity.__table__).where(_identities.id == bindparam("identity_id")).values(
    last_seen_at=bindparam("seen_at"))


async def recognise(
    *, session: AsyncSession, platform: str, platform_user_id: str, display_name: str = ""
) -> Seen:
    """The identity of a platform user, created as a guest the first time."""
    who = {"platform": platform, "platform_user_id": platform_user_id}
    row = (await run(session, _SEEN, who)).first()
    if row is None:
        await insert_or_ignore(
            session, ChatIdentity,
            {"platform": platform, "platform_user_id": platform_user_id,
             "display_name": display_name[:120], "created_at": now(), "last_seen_at": now()},
            ["platform", "platform_user_id"])
        row = (await run(session, _SEEN, who)).one()
    elif row.last_seen_at < now() - SEEN_EVERY:
        await run(session, _TOUCH, {"identity_id": row.id, "seen_at": now()})
    return Seen(row.id, row.user_id)


async def identify(
    *, session: AsyncSession, platform: str, platform_user_id: str, display_name: str = ""
) -> ChatIdentity:
    """The identity of a platform user as an ORM object, created as a guest the first time."""
    seen = await recognise(session=session, platform=platform,
                           platform_user_id=platform_user_id, display_name=display_name)
    # Read afresh: last_seen_at may have just been written past the ORM.
    identity = await session.get(ChatIdentity, seen.identity_id, populate_existing=True)
    assert identity is not None
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
    change = await audit.record(session=session, actor=actor, action="account.identity_linked",
                                subject_type="user", subject_id=user.id,
                                data={"platform": identity.platform, "identity_id": identity.id})
    await notices.chat_linked(session, user, identity.platform, change)
    return identity


async def unlink(*, session: AsyncSession, identity: ChatIdentity, actor: Actor) -> None:
    if identity.user_id is None:
        return
    user_id = identity.user_id
    identity.user_id = None
    change = await audit.record(session=session, actor=actor,
                                action="account.identity_unlinked", subject_type="user",
                                subject_id=user_id,
                                data={"platform": identity.platform, "identity_id": identity.id})
    user = await session.get(User, user_id)
    if user is not None:
        await notices.chat_unlinked(session, user, identity.platform, change)


async def for_user(*, session: AsyncSession, user_id: int) -> list[ChatIdentity]:
    rows = await session.scalars(
        select(ChatIdentity).where(ChatIdentity.user_id == user_id).order_by(ChatIdentity.id))
    return list(rows)
