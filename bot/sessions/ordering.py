"""One turn at a time per chat, any number of chats at once.

Within a process an asyncio lock per chat key, dropped when nobody waits on it, keeps
memory bounded by the chats in flight (and keeps their order). With Redis (several
processes), the turn also holds a Redis lock on the chat (redis-py's, with a timeout so a
dead process cannot hold a chat for ever), so a chat's turns never overlap whichever
process they reach; two arriving at the same moment on two processes go one after the
other, in either order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from bot import logs

log = logging.getLogger("chatcart.ordering")
TURN_SECONDS = 30     # a turn longer than this lets the next one in (and is logged)
POLL_SECONDS = 0.05   # how often a waiting turn asks Redis again


class ChatLocks:
    def __init__(self, redis: Redis | None = None) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self.redis = redis

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock, AsyncExitStack() as stack:
                if self.redis is not None:
                    await self._across_processes(stack, key)
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def _across_processes(self, stack: AsyncExitStack, key: str) -> None:
        """Hold the chat's Redis lock until the turn ends; without Redis (down, or too
        slow) the turn goes ahead: an answer late or out of order beats none."""
        assert self.redis is not None
        shared = self.redis.lock(f"chatcart:turn:{key}", timeout=TURN_SECONDS,
                                 sleep=POLL_SECONDS, blocking_timeout=TURN_SECONDS)
        try:
            await stack.enter_async_context(_held(shared, key))
        except (LockError, RedisError) as problem:
            logs.event(log, "ordering.unlocked_turn", logging.WARNING, chat=key,
                       error=type(problem).__name__)

    def __len__(self) -> int:
        return len(self._locks)


@asynccontextmanager
async def _held(lock: Lock, key: str) -> AsyncIterator[None]:
    """Acquire the chat's Redis lock for the block, and let it go after."""
    if not await lock.acquire():
        raise LockError("timed out waiting for the chat")
    try:
        yield
    finally:
        try:
            await lock.release()
        except (LockError, RedisError) as problem:  # expired meanwhile, or Redis went
            logs.event(log, "ordering.release_failed", logging.WARNING, chat=key,
                       error=type(problem).__name__)
