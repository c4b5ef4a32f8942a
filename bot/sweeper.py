"""Background upkeep (bot/jobs.py runs it in `chatcart serve` or `chatcart worker`): unpaid
orders past their window are cancelled (and their payment pages closed), chats idle past
their expiry are forgotten, old webhook receipts and delivered messages are dropped, and
so are console sign-ins left unfinished and sign-in failures long past.

Safe with several processes: the expiry is idempotent (conditional updates).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot import logs
from core.accounts import second_factor, throttle
from core.chats import service as chats
from core.orders import service as orders
from core.outbox import service as outbox
from core.payments import service as payments
from core.shop import Shop
from core.webhooks import receipts

log = logging.getLogger("chatcart.sweeper")


async def expire_once(shop: Shop) -> list[str]:
    async with shop.transaction() as session:
        expired = await orders.expire_unpaid(session=session)
        numbers = [order.number for order in expired]
        ids = [order.id for order in expired]
        await chats.purge_idle(session=session)
        await receipts.purge_old(session=session)
        await outbox.purge_sent(session=session)
        await second_factor.purge(session=session)
        await throttle.purge(session=session)
    for order_id in ids:  # after the expiry committed: a slow gateway can't hold it up
        async with shop.transaction() as session:
            await payments.close_open(session=session, order_id=order_id,
                                      gateways=shop.gateways)
    for number in numbers:
        logs.event(log, "order.payment_expired", order=number)
    return numbers


async def run_forever(shop: Shop, interval: float,
                      beat: Callable[[], None] | None = None) -> None:
    """Sweep every `interval` seconds; `beat` after each sweep that worked (the worker's
    health check watches it)."""
    while True:
        try:
            await expire_once(shop)
            if beat is not None:
                beat()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one bad sweep must not stop the next
            log.exception("sweeper.failed")
        await asyncio.sleep(interval)
