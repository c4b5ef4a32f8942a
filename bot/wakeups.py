"""Telling other processes that chat messages were queued (core.outbox), through Redis
pub/sub: a web chat waiting on another process hears its confirmation at once, and the
worker delivers a Telegram message without waiting for its next look. Without Redis,
every process still looks every few seconds: this only makes it prompt."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot import logs

log = logging.getLogger("chatcart.wakeups")
CHANNEL = "chatcart:outbox"
Listener = Callable[[set[str]], None]


class Wakeups:
    def __init__(self, redis: Redis | None, listeners: list[Listener]) -> None:
        self.redis, self.listeners = redis, listeners
        self._sending: set[asyncio.Task[None]] = set()

    def queued(self, chat_keys: set[str]) -> None:
        """A transaction here committed messages for `chat_keys` (Shop.outbox_listeners)."""
        for listener in self.listeners:
            listener(chat_keys)
        if self.redis is not None:
            task = asyncio.create_task(self._publish(sorted(chat_keys)))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _publish(self, chat_keys: list[str]) -> None:
        assert self.redis is not None
        try:
            await self.redis.publish(CHANNEL, json.dumps(chat_keys))
        except RedisError as problem:
            logs.event(log, "wakeups.publish_failed", logging.WARNING,
                       error=type(problem).__name__)

    async def listen(self) -> None:
        """Hear other processes' news until cancelled, reconnecting after Redis trouble."""
        if self.redis is None:
            return
        while True:
            try:
                async with self.redis.pubsub() as channel:
                    await channel.subscribe(CHANNEL)
                    async for message in channel.listen():
                        if message.get("type") != "message":
                            continue
                        with contextlib.suppress(ValueError, TypeError):
                            keys = {str(key) for key in json.loads(message["data"])}
                            for listener in self.listeners:
                                listener(keys)
            except RedisError as problem:
                logs.event(log, "wakeups.listen_failed", logging.WARNING,
                           error=type(problem).__name__)
                await asyncio.sleep(1.0)
