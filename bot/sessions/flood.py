"""Messages per chat: a person (or a script) sending faster than anyone types is told once
to slow down, and the rest of that burst is dropped before it costs a transaction.

Counted in fixed windows: in Redis when there is one (every process sees the same count),
else in this process. A Redis that fails lets messages through: a flood guard must not
become an outage.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from redis.asyncio import Redis

from bot import logs
from bot.sessions.windows import Windows

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
        self.limit, self.window = limit, window
        self._windows = Windows(redis, window, "chatcart:flood")

    async def check(self, chat_key: str) -> Verdict:
        (count,) = await self._windows.add(chat_key)
        if count <= self.limit:
            return Verdict.PASS
        if count == self.limit + 1:
            logs.event(log, "flood.chat_slowed", logging.WARNING, chat=chat_key,
                       limit=self.limit, window=self.window)
            return Verdict.WARN
        return Verdict.DROP
