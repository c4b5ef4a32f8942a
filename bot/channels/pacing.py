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
import random
import time
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItem, RateLimitItemPerSecond
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

    RESTING = 10.0  # seconds on local pacing after Redis failed, before trying it again

    def __init__(self, redis_url: str, platform: str, limits: Limits) -> None:
        storage = RedisStorage(f"async+{redis_url}", implementation="redispy",
                               key_prefix=f"chatcart:pace:{platform}",
                               socket_timeout=1.0, socket_connect_timeout=1.0)
        self.windows = MovingWindowRateLimiter(storage)
        self.per_chat = _window(limits.per_chat_rate, limits.per_chat_burst)
        self.everyone = _window(limits.global_rate, 1)
        self.fallback = LocalPacing(limits)
        self.platform = platform
        self._everyone_turn = asyncio.Lock()  # one waiter a process asks Redis for the bot
        self._local_until = 0.0

    async def take(self, chat: str) -> None:
        if time.monotonic() < self._local_until:
            await self.fallback.take(chat)
            return
        try:
            await self._wait(self.per_chat, chat)
            async with self._everyone_turn:
                await self._wait(self.everyone, "all")
        except (StorageError, RedisError, OSError) as problem:
            logs.event(log, "delivery.shared_pace_failed", logging.WARNING,
                       platform=self.platform, error=type(problem).__name__,
                       note=f"pacing this process alone for {self.RESTING:.0f} s")
            self._local_until = time.monotonic() + self.RESTING
            await self.fallback.take(chat)

    async def _wait(self, item: RateLimitItem, key: str) -> None:
        while not await self.windows.hit(item, key):
            reset, _ = await self.windows.get_window_stats(item, key)
            pause = min(max(reset - time.time(), 0.01), 1.0)
            await asyncio.sleep(pause * random.uniform(1.0, 1.2))  # not all at one instant


def _window(rate: float, burst: int) -> RateLimitItem:
    """A moving window of whole seconds holding `rate` a second on average and at least
    `burst` at once: 1 a second with bursts of 3 is 3 in any 3 seconds; 0.5 a second is
    1 in any 2."""
    seconds = max(1, math.ceil(max(burst, 1) / rate))
    return RateLimitItemPerSecond(max(burst, 1, math.floor(rate * seconds)), seconds)


SHARED_UP_TO = 1000.0  # a faster "limit" is no platform's (tests, benchmarks): kept local


def pacing_for(redis_url: str | None, platform: str, limits: Limits) -> Pacing:
    """Shared through Redis when there is one (several processes may send), else local."""
    if redis_url and limits.global_rate <= SHARED_UP_TO:
        return SharedPacing(redis_url, platform, limits)
    return LocalPacing(limits)
