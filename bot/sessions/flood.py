"""Messages per chat: a person (or a script) sending faster than anyone types is told once
to slow down, and the rest of that burst is dropped before it costs a transaction.

Counted in fixed windows: in Redis when there is one (every process sees the same count),
else in this process. A Redis that fails lets messages through: a flood guard must not
become an outage.
"""

from __future__ import annotations

import logging
import time
from enum import StrEnum

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot import logs

log = logging.getLogger("chatcart.flood")
LIMIT = 20        # messages (and button presses) a chat may send in one window
WINDOW = 10       # seconds


class Verdict(StrEnum):
    PASS = "pass"
    WARN = "warn"   # the first one over the limit: say so once
    DROP = "drop"   # the rest of the burst: no answer at all


class FloodGuard:
    def __init__(self, redis: Redis | None = None, limit: int = LIMIT,
                 window: int = WINDOW) -> None:
        self.redis, self.limit, self.window = redis, limit, window
        self._counts: dict[str, tuple[int, int]] = {}   # chat -> (window number, count)

    async def check(self, chat_key: str) -> Verdict:
        number = int(time.time() // self.window)
        count = await self._count(chat_key, number)
        if count <= self.limit:
            return Verdict.PASS
        if count == self.limit + 1:
            logs.event(log, "flood.chat_slowed", logging.WARNING, chat=chat_key,
                       limit=self.limit, window=self.window)
            return Verdict.WARN
        return Verdict.DROP

    async def _count(self, chat_key: str, number: int) -> int:
        if self.redis is not None:
            key = f"chatcart:flood:{chat_key}:{number}"
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    counted, _ = await pipe.incr(key).expire(key, 2 * self.window).execute()
                return int(counted)
            except RedisError as problem:
                logs.event(log, "flood.redis_failed", logging.WARNING,
                           error=type(problem).__name__)
                return 0
        seen, count = self._counts.get(chat_key, (number, 0))
        count = count + 1 if seen == number else 1
        self._counts[chat_key] = (number, count)
        if len(self._counts) > 10_000:  # only chats heard from in this window matter
            self._counts = {k: v for k, v in self._counts.items() if v[0] == number}
        return count
