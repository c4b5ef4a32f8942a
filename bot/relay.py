"""Delivering what the shop queued for chats (core.outbox) through the right channel.

Woken at once when this process applies a payment, and otherwise checking every few
seconds (another process may have queued something). Messages are claimed in a
transaction, so two processes never deliver the same one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bot import logs
from bot.messages import Button, Link, Reply
from core.outbox import service as outbox
from core.shop import Shop

log = logging.getLogger("chatcart.relay")
Deliver = Callable[[str, str, list[Reply]], bool]   # platform, chat id, replies -> delivered


def reply_of(payload: dict[str, Any]) -> Reply:
    rows = tuple(tuple(Button(b["label"], b["action"]) for b in row)
                 for row in payload.get("buttons", []))
    links = tuple(Link(link["label"], link["url"]) for link in payload.get("links", []))
    return Reply(str(payload.get("text", "")), buttons=rows, links=links)


class Relay:
    def __init__(self, shop: Shop, deliver: Deliver, platforms: list[str],
                 interval: float = 3.0) -> None:
        self.shop, self.deliver, self.interval = shop, deliver, interval
        self.platforms = platforms
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def once(self) -> int:
        async with self.shop.transaction() as session:
            messages = await outbox.claim_pending(session=session, platforms=self.platforms)
            for message in messages:
                platform, _, chat_id = message.chat_key.partition(":")
                if not self.deliver(platform, chat_id, [reply_of(message.payload)]):
                    logs.event(log, "relay.no_channel", logging.WARNING, platform=platform,
                               message=message.id)
        return len(messages)

    async def run_forever(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                while await self.once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("relay.failed")
