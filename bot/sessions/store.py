"""Where chat state lives: the database by default, Redis when `REDIS_URL` is set.

Both take the turn's database session, so the database store saves the state in the
same transaction as the turn's changes (a failed turn leaves no half-moved dialog).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sessions.state import ChatState
from core.chats import service as chats

IDLE = timedelta(days=7)


class SessionStore(Protocol):
    async def load(self, session: AsyncSession, key: str) -> ChatState: ...
    async def save(self, session: AsyncSession, key: str, state: ChatState) -> None: ...


class DatabaseSessionStore:
    def __init__(self, idle: timedelta = IDLE) -> None:
        self.idle = idle

    async def load(self, session: AsyncSession, key: str) -> ChatState:
        return ChatState.from_dict(await chats.load(session=session, key=key))

    async def save(self, session: AsyncSession, key: str, state: ChatState) -> None:
        await chats.save(session=session, key=key, state=state.to_dict(), idle=self.idle)


class RedisSessionStore:
    """State as JSON under `chatcart:chat:<key>`, expiring after the idle time."""

    def __init__(self, client: Redis, idle: timedelta = IDLE) -> None:
        self.client = client
        self.idle = idle

    @staticmethod
    def _key(key: str) -> str:
        return f"chatcart:chat:{key}"

    async def load(self, session: AsyncSession, key: str) -> ChatState:
        raw = await self.client.get(self._key(key))
        return ChatState.from_dict(json.loads(raw) if raw else None)

    async def save(self, session: AsyncSession, key: str, state: ChatState) -> None:
        await self.client.set(self._key(key), json.dumps(state.to_dict()),
                              ex=int(self.idle.total_seconds()))
