"""Telling other processes what a commit here did, through Redis pub/sub: chats given
messages (core.outbox), so a web chat waiting on another process hears its confirmation
at once and the worker delivers a Telegram message without waiting for its next look; and
news for staff (core.audit.news), so a console open on any process hears of a paid order.
Without Redis, every process still looks for messages every few seconds, and consoles
hear the news of their own process only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot import logs
from core.audit.news import News, Newsroom
from core.shop import Committed

log = logging.getLogger("chatcart.wakeups")
CHANNEL = "chatcart:commits"
LOOK = 0.5  # seconds a read waits; under the client's 1 s socket timeout
Listener = Callable[[set[str]], None]


class Wakeups:
    def __init__(self, redis: Redis | None, listeners: list[Listener],
                 newsroom: Newsroom | None = None) -> None:
        self.redis, self.listeners, self.newsroom = redis, listeners, newsroom
        self._sending: set[asyncio.Task[None]] = set()

    def committed(self, done: Committed) -> None:
        """A transaction here committed (Shop.commit_listeners; the newsroom heard it)."""
        self._wake(set(done.chat_keys))
        if self.redis is not None:
            task = asyncio.create_task(self._publish(json.dumps({
                "chats": sorted(done.chat_keys),
                "news": [item.to_json() for item in done.news]})))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    def _wake(self, chat_keys: set[str]) -> None:
        for listener in self.listeners if chat_keys else ():
            listener(chat_keys)

    async def _publish(self, message: str) -> None:
        assert self.redis is not None
        try:
            await self.redis.publish(CHANNEL, message)
        except RedisError as problem:
            logs.event(log, "wakeups.publish_failed", logging.WARNING,
                       error=type(problem).__name__)

    def _heard(self, data: bytes | str) -> None:
        """One message from a process (this one too: the newsroom tells an item once).
        Anything else on the channel is ignored, logged: it must not end the listening."""
        try:
            message = json.loads(data)
            if not isinstance(message, dict):
                raise ValueError("not an object")
            chats, told = message.get("chats", []), message.get("news", [])
            self._wake({str(key) for key in chats} if isinstance(chats, list) else set())
            if self.newsroom is not None and isinstance(told, list):
                self.newsroom.tell([News.from_json(raw) for raw in told])
        except Exception as problem:  # noqa: BLE001 - a stranger's message, not ours
            logs.event(log, "wakeups.unreadable", logging.WARNING,
                       error=type(problem).__name__)

    async def listen(self) -> None:
        """Hear other processes' news until cancelled, reconnecting after Redis trouble."""
        if self.redis is None:
            return
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as channel:
                    await channel.subscribe(CHANNEL)
                    while True:  # not listen(): a quiet second is no failure (socket_timeout)
                        message = await channel.get_message(timeout=LOOK)
                        if message is not None and message.get("type") == "message":
                            self._heard(message["data"])
            except (RedisError, OSError) as problem:
                logs.event(log, "wakeups.listen_failed", logging.WARNING,
                           error=type(problem).__name__)
                await asyncio.sleep(1.0)
