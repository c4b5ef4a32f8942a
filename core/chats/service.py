"""Load and save chat state; a chat idle past its expiry starts afresh."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.chats.models import ChatSession
from core.clock import now
from core.db import run, upsert

_chat = ChatSession.__table__.c
_STATE = select(_chat.state, _chat.expires_at).where(_chat.key == bindparam("key"))


async def load(*, session: AsyncSession, key: str) -> dict[str, Any] | None:
    """The chat's state, read as a plain row: this runs on every chat message."""
    row = (await run(session, _STATE, {"key": key})).first()
    if row is None or row.expires_at <= now():
        return None
    return dict(row.state)


async def save(*, session: AsyncSession, key: str, state: dict[str, Any],
               idle: timedelta) -> None:
    """One statement per turn (an upsert): the hot path of every chat message."""
    stamp = now()
    await upsert(session, ChatSession, {"key": key, "state": state, "updated_at": stamp,
                                        "expires_at": stamp + idle}, ["key"])


async def purge_idle(*, session: AsyncSession) -> int:
    """Forget chats idle past their expiry; returns how many."""
    result = await session.execute(delete(ChatSession).where(ChatSession.expires_at <= now()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
