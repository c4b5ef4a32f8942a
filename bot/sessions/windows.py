"""Counts in fixed windows of time, for flood limits: in Redis when there is one (every
process sees the same count), else in this process. A Redis that fails counts nothing
(0), so the limits it serves let everything through: a flood guard must not become an
outage.
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot import logs

log = logging.getLogger("chatcart.flood")
KEPT = 10_000  # keys a process remembers before it forgets those of past windows


class Windows:
    def __init__(self, redis: Redis | None, window: int, prefix: str) -> None:
        self.redis, self.window, self.prefix = redis, window, prefix
        self._counts: dict[str, tuple[int, int]] = {}   # key -> (window number, count)

    def seconds_left(self) -> int:
        """Whole seconds until the next window begins (at least 1)."""
        return max(1, int(self.window - time.time() % self.window + 0.999))

    async def add(self, *keys: str) -> list[int]:
        """Count one more for each key; the counts so far in this window, this one included."""
        number = int(time.time() // self.window)
        if self.redis is not None:
            names = [f"{self.prefix}:{key}:{number}" for key in keys]
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    for name in names:
                        pipe.incr(name).expire(name, 2 * self.window)
                    counted = await pipe.execute()
                return [int(count) for count in counted[::2]]
            except RedisError as problem:
                logs.event(log, "flood.redis_failed", logging.WARNING,
                           error=type(problem).__name__, detail=str(problem)[:120])
                return [0] * len(keys)
        counts = []
        for key in keys:
            seen, count = self._counts.get(key, (number, 0))
            count = count + 1 if seen == number else 1
            self._counts[key] = (number, count)
            counts.append(count)
        if len(self._counts) > KEPT:  # only keys heard from in this window matter
            self._counts = {k: v for k, v in self._counts.items() if v[0] == number}
        return counts
