"""Delivering what the shop queued for chats (core.outbox) through the right channel.

Woken when a transaction in this process queues a message (and, with Redis, when another
process does), and otherwise checking every few seconds. Each message is leased while it
is delivered, the lease renewed for as long as the delivery is under way, and marked by
how it went: sent, tried again later, or given up. A process that dies mid-delivery lets
its lease run out, and another delivers the message: at least once, and twice only when
a process dies between the platform's answer and the mark.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot import logs
from bot.channels.delivery import Outcome
from bot.messages import Reply
from core.audit.actor import Actor
from core.outbox import service as outbox
from core.shop import Shop
from core.support import conversations

log = logging.getLogger("chatcart.relay")
# platform, chat id, replies -> how the delivery went (None: no channel for it here)
Deliver = Callable[[str, str, list[Reply]], Awaitable[Outcome] | None]


class Relay:
    IN_FLIGHT = 200  # messages handed to the channels and not yet marked, at most
    INTERVAL = 3.0   # seconds between looks when nothing wakes it
    STALE = 30.0     # no round through for this long: unhealthy (and at least 10 looks)

    def __init__(self, shop: Shop, deliver: Deliver, platforms: list[str],
                 interval: float | None = None) -> None:
        self.shop, self.deliver = shop, deliver
        self.interval = self.INTERVAL if interval is None else interval
        self.platforms = platforms
        self._wake = asyncio.Event()
        self._settling: set[asyncio.Task[None]] = set()
        self.claiming = True
        self.last_round = time.monotonic()  # when a round last went through without error

    @property
    def healthy(self) -> bool:
        """A round went through lately (the worker's heartbeat waits for it)."""
        return time.monotonic() - self.last_round < max(self.STALE, 10 * self.interval)

    def wake(self) -> None:
        self._wake.set()

    async def once(self) -> int:
        """Lease what is due and hand it to the channels; returns how many were taken."""
        room = self.IN_FLIGHT - len(self._settling)
        if not self.claiming or room <= 0:
            return 0
        async with self.shop.transaction() as session:
            messages = await outbox.claim(session=session, platforms=self.platforms,
                                          limit=min(50, room))
            taken = [(m.id, m.chat_key, m.payload) for m in messages]
        for message_id, chat_key, payload in taken:
            platform, _, chat_id = chat_key.partition(":")
            try:
                contents = outbox.opened(payload, self.shop.vault)
                pending = None if contents is None else self.deliver(
                    platform, chat_id, [Reply.from_payload(contents)])
            except Exception:  # noqa: BLE001 - a message that cannot even be rendered
                log.exception("relay.unsendable message=%s", message_id)
                pending = None
            task = asyncio.create_task(self._settle(message_id, chat_key, pending))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)
        return len(taken)

    async def settle(self, seconds: float) -> None:
        """Stop claiming, and give the deliveries under way `seconds` to be marked."""
        self.claiming = False
        if self._settling:
            await asyncio.wait(list(self._settling), timeout=seconds)

    async def _settle(self, message_id: int, chat_key: str,
                      pending: Awaitable[Outcome] | None) -> None:
        platform = chat_key.partition(":")[0]
        outcome = Outcome.UNDELIVERABLE if pending is None else None
        waiting = asyncio.ensure_future(pending) if pending is not None else None
        while outcome is None and waiting is not None:
            done, _ = await asyncio.wait([waiting], timeout=outbox.LEASE.total_seconds() / 3)
            if done:
                outcome = waiting.result()
            else:  # still queued or retrying: hold on to it
                async with self.shop.transaction() as session:
                    await outbox.renew(session=session, message_id=message_id)
        assert outcome is not None
        async with self.shop.transaction() as session:
            if outcome is Outcome.SENT:
                await outbox.delivered(session=session, message_ids=[message_id])
                return
            gave_up = await outbox.failed(
                session=session, message_id=message_id, error=outcome.value if pending
                else f"not sendable on {platform}",
                final=outcome in (Outcome.UNDELIVERABLE, Outcome.GONE))
            # The platform said this chat cannot be reached (the shopper blocked the bot):
            # a conversation with a person there ends, and staff see why. One message it
            # refused (a 400 for its markup) ends nothing.
            closed = await conversations.close_for_chat(
                session=session, chat_key=chat_key, reason="undeliverable",
                actor=Actor.system("relay")) if gave_up and pending is not None \
                and outcome is Outcome.GONE else []
        for handoff_id in closed:
            logs.event(log, "support.chat_unreachable", logging.WARNING, platform=platform,
                       handoff=handoff_id)
        logs.event(log, "relay.gave_up" if gave_up else "relay.retry_later", logging.WARNING,
                   platform=platform, message=message_id, outcome=outcome.value)

    async def run_forever(self) -> None:
        try:
            while True:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.interval)
                except TimeoutError:
                    pass
                self._wake.clear()
                try:
                    while await self.once():
                        pass
                    self.last_round = time.monotonic()
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - the next round tries again
                    log.exception("relay.failed")
        finally:  # deliveries under way get a moment to be marked, or their lease runs out
            await self.settle(5)
            for task in list(self._settling):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
