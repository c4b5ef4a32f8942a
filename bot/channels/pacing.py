"""How fast a platform may be sent to: so many messages a second in one chat, and so many
for the whole bot (Telegram: about 1 a second per chat, 30 a second in all).

One process keeps its own token buckets. Several processes sending for one bot (the
`serve` processes answering turns, the worker delivering the outbox) must share one count,
or together they exceed the platform's limit and are made to wait out its 429s: with
Redis they count in moving windows kept there, through the `limits` library. When Redis
fails, each process falls back to its own buckets, logged, rather than stop sending.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.exceptions import RedisError

from bot import logs

log = logging.getLogger("chatcart.delivery")


@dataclass(frozen=True, slots=True)
class Limits:
    per_chat_rate: float = 1.0     # messages a second in one chat, sustained
    per_chat_burst: int = 3        # a turn's few replies may go out together
    global_rate: float = 30.0      # messages a second for the whole bot
    max_attempts: int = 10         # failures (not 429s) before a message is given up
    backoff_cap: float = 30.0      # seconds


class Pacing(Protocol):
    async def take(self, chat: str) -> None:
        """Wait until one more message may go to `chat`."""


class Bucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def _refill(self) -> None:
        moment = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (moment - self.stamp) * self.rate)
        self.stamp = moment

    async def take(self) -> None:
        while True:
            self._refill()
            if self.tokens >= 1:
                self.tokens -= 1
                return
            await asyncio.sleep((1 - self.tokens) / self.rate)

    @property
    def full(self) -> bool:
        self._refill()
        return self.tokens >= self.burst


class LocalPacing:
    """This process's own count: a bucket per chat and one for the bot."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._chats: dict[str, Bucket] = {}
        self._everyone = Bucket(limits.global_rate, limits.global_rate)

    async def take(self, chat: str) -> None:
        if chat not in self._chats and len(self._chats) > 1000:  # forget the quiet ones
            self._chats = {k: b for k, b in self._chats.items() if not b.full}
        bucket = self._chats.setdefault(
            chat, Bucket(self.limits.per_chat_rate, self.limits.per_chat_burst))
        await bucket.take()
        await self._everyone.take()


class SharedPacing:
    """One count for every process sending for this bot, in Redis."""

    def __init__(self, redis_url: str, platform: str, limits: Limits) -> None:
        storage = RedisStorage(f"async+{redis_url}", implementation="redispy",
                               key_prefix=f"chatcart:pace:{platform}",
                               socket_timeout=1.0, socket_connect_timeout=1.0)
        self.windows = MovingWindowRateLimiter(storage)
        burst = max(1, limits.per_chat_burst)  # e.g. 3 in any 3 seconds: 1 a second
        self.per_chat = RateLimitItemPerSecond(
            burst, max(1, math.ceil(burst / limits.per_chat_rate)))
        self.everyone = RateLimitItemPerSecond(max(1, math.ceil(limits.global_rate)), 1)
        self.fallback = LocalPacing(limits)
        self.platform = platform
        self._failing = False

    async def take(self, chat: str) -> None:
        try:
            await self._wait(self.per_chat, chat)
            await self._wait(self.everyone, "all")
            self._failing = False
        except (StorageError, RedisError, OSError) as problem:
            if not self._failing:
                logs.event(log, "delivery.shared_pace_failed", logging.WARNING,
                           platform=self.platform, error=type(problem).__name__,
                           note="pacing this process alone until Redis answers")
            self._failing = True
            await self.fallback.take(chat)

    async def _wait(self, item: RateLimitItemPerSecond, key: str) -> None:
        while not await self.windows.hit(item, key):
            reset, _ = await self.windows.get_window_stats(item, key)
            await asyncio.sleep(min(max(reset - time.time(), 0.01), 1.0))


def pacing_for(redis_url: str | None, platform: str, limits: Limits) -> Pacing:
    """Shared through Redis when there is one (several processes may send), else local."""
    return SharedPacing(redis_url, platform, limits) if redis_url else LocalPacing(limits)
