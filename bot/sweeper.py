"""Background upkeep (bot/jobs.py runs it in `chatcart serve` or `chatcart worker`): unpaid
orders past their window are cancelled (and their payment pages closed), chats idle past
their expiry are forgotten, old webhook receipts, delivered messages, notification records
and ended push subscriptions past their 90 days are dropped, and so are console sign-ins
left unfinished, sign-in failures long past and spent preference links past their expiry.
Shoppers nobody took within SUPPORT_ESCALATE_MINUTES become staff alerts; then `nudge_once`
does the notifications' background work (core/nudges): staff alerts go out batched (a mail
to every admin and, with SLACK_ALERTS_CHANNEL, one message there), restocks are told to the
shoppers waiting for them `back_in_stock.BATCH` per transaction, and carts left for
CART_REMINDER_HOURS are reminded of once.

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
from core.config import Settings
from core.notifications import links, push
from core.notifications import service as notifications
from core.nudges import back_in_stock, cart_reminders, staff_alerts
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
        await notifications.purge_old(session=session)
        await push.purge_ended(session=session)
        await second_factor.purge(session=session)
        await throttle.purge(session=session)
        await links.forget_expired(session=session)
        await back_in_stock.purge_old(session=session)
        await staff_alerts.purge_sent(session=session)
        minutes = shop.settings.support_escalate_minutes
        waiting = await conversations.escalate(
            session=session, older_than=timedelta(minutes=minutes)) if minutes else []
    for order_id in ids:  # after the expiry committed: a slow gateway can't hold it up
        async with shop.transaction() as session:
            await payments.close_open(session=session, order_id=order_id,
                                      gateways=shop.gateways)
    for number in numbers:
        logs.event(log, "order.payment_expired", order=number)
    if waiting:
        logs.event(log, "support.escalated", handoffs=",".join(map(str, waiting)))
    return numbers


async def nudge_once(shop: Shop, max_batches: int = 100) -> dict[str, int]:
    """One round of nudges and staff alerts, each step in its own transaction(s): what a
    failing step leaves undone waits for the next round. Returns what each step did."""
    settings, chat_url = shop.settings, f"{shop.settings.base_url}/chat"
    done = {"alerts": 0, "back_in_stock": 0, "cart_reminders": 0}
    async with shop.transaction() as session:
        done["alerts"] = await staff_alerts.send_due(
            session=session, window=timedelta(seconds=settings.staff_alerts_batch_seconds),
            alert_key=alerts_key(settings), console_url=f"{settings.base_url}/admin")
    for _round in range(max_batches):  # a big list: many small transactions
        async with shop.transaction() as session:
            taken = await back_in_stock.tell_waiting(session=session, chat_url=chat_url)
        if not taken:
            break
        done["back_in_stock"] += taken
    if settings.cart_reminder_hours:
        async with shop.transaction() as session:
            done["cart_reminders"] = await cart_reminders.remind_due(
                session=session, older_than=timedelta(hours=settings.cart_reminder_hours),
                vault=shop.vault, chat_url=chat_url)
    if any(done.values()):
        logs.event(log, "nudges.sent", **done)
    return done


def alerts_key(settings: Settings) -> str | None:
    """Where staff alerts go: the Slack alerts channel's chat key (SlackChannel.send posts
    to a channel id), when one is set."""
    channel = settings.slack_alerts_channel
    return f"slack:{channel}" if channel and settings.slack_bot_token else None


async def run_forever(shop: Shop, interval: float,
                      beat: Callable[[], None] | None = None) -> None:
    """Sweep every `interval` seconds; `beat` after each sweep that worked (the worker's
    health check watches it)."""
    while True:
        try:
            await expire_once(shop)
            await nudge_once(shop)
            if beat is not None:
                beat()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one bad sweep must not stop the next
            log.exception("sweeper.failed")
        await asyncio.sleep(interval)
