"""Background upkeep (bot/jobs.py runs it in `chatcart serve` or `chatcart worker`): unpaid
orders past their window are cancelled (and their payment pages closed), chats idle past
their expiry are forgotten, old webhook receipts and delivered messages are dropped, and
so are console sign-ins left unfinished and sign-in failures long past. Admins are
emailed about shoppers nobody took within SUPPORT_ESCALATE_MINUTES.

Safe with several processes: the expiry is idempotent (conditional updates).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from bot import logs
from core.accounts import second_factor, throttle
from core.chats import service as chats
from core.i18n import _
from core.notifications.mail import Email
from core.orders import service as orders
from core.outbox import service as outbox
from core.payments import service as payments
from core.shop import Shop
from core.support import conversations
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
        minutes = shop.settings.support_escalate_minutes
        waiting = await conversations.to_escalate(
            session=session, older_than=timedelta(minutes=minutes)) if minutes else []
        admins = await conversations.admin_emails(session=session) if waiting else []
    for order_id in ids:  # after the expiry committed: a slow gateway can't hold it up
        async with shop.transaction() as session:
            await payments.close_open(session=session, order_id=order_id,
                                      gateways=shop.gateways)
    for number in numbers:
        logs.event(log, "order.payment_expired", order=number)
    if waiting:
        await _tell_admins(shop, waiting, admins)
    return numbers


async def _tell_admins(shop: Shop, waiting: list[int], admins: list[str]) -> None:
    """Shoppers waited past SUPPORT_ESCALATE_MINUTES with nobody taking them: each admin
    hears once (marked before the commit; a failed mail is logged, not retried)."""
    link = f"{shop.settings.base_url}/admin/handoffs"
    body = _("{count} shopper(s) have waited more than {minutes} minutes for a person and "
             "nobody has taken them yet. Answer them in the console: {link}",
             count=len(waiting), minutes=shop.settings.support_escalate_minutes, link=link)
    for address in admins:
        try:
            await shop.mailer.send(Email(address, _("Shoppers are waiting for a person"),
                                         body))
        except Exception:  # noqa: BLE001 - the next request still escalates
            log.exception("support.escalation_mail_failed")
    logs.event(log, "support.escalated", handoffs=",".join(map(str, waiting)),
               admins=len(admins))


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
