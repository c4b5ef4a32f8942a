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

Each step runs in its own transaction inside its own `try`: a step that raises is logged
(`sweeper.step_failed step=<name> error=<type>`, no message, which may quote a row) and
the next step goes on, so a failing purge or nudge never undoes the unpaid-order expiry
(alone in its transaction) nor stops the other steps, and the worker's heartbeat still
beats (it stops only when the expiry itself fails: the database is down, say). Big
purges go in chunks of core.db.PURGE_CHUNK rows, each its own short transaction (SQLite's
write lock is held for one chunk), up to PURGE_CHUNKS a sweep.

Safe with several processes: the expiry is idempotent (conditional updates).
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot import logs
from core.accounts import second_factor, throttle
from core.chats import service as chats
from core.config import Settings
from core.db import PURGE_CHUNK
from core.notifications import links, push, sms_codes
from core.notifications import service as notifications
from core.nudges import back_in_stock, cart_reminders, staff_alerts
from core.orders import service as orders
from core.outbox import service as outbox
from core.payments import service as payments
from core.shop import Shop
from core.support import conversations
from core.webhooks import receipts

log = logging.getLogger("chatcart.sweeper")
T = TypeVar("T")
PURGE_CHUNKS = 20   # chunks per purge and sweep: 100,000 rows; the rest go next sweep
Purge = Callable[..., Awaitable[int]]


def purges() -> tuple[dict[str, Purge], dict[str, Purge]]:
    """The purges done in one transaction each, and those of tables with no bound on their
    size, done in chunks (each chunk its own transaction)."""
    whole = {"chats.purge_idle": chats.purge_idle, "receipts.purge_old": receipts.purge_old,
             "outbox.purge_sent": outbox.purge_sent, "second_factor.purge": second_factor.purge,
             "throttle.purge": throttle.purge}
    chunked = {"notifications.purge_old": notifications.purge_old,
               "links.forget_expired": links.forget_expired,
               "push.purge_ended": push.purge_ended,
               "back_in_stock.purge_old": back_in_stock.purge_old,
               "staff_alerts.purge_sent": staff_alerts.purge_sent,
               "sms_codes.purge_old": sms_codes.purge_old}
    return whole, chunked


def step_failed(step: str, error: BaseException) -> None:
    """Logged without the exception's message (SQL parameters, an address): its type and
    where it was raised."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    logs.event(log, "sweeper.step_failed", logging.ERROR, step=step,
               error=type(error).__name__, at=where)


async def step(shop: Shop, name: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T | None:
    """`work` in its own transaction; None when it raised (logged, rolled back)."""
    try:
        async with shop.transaction() as session:
            return await work(session)
    except Exception as error:  # noqa: BLE001 - one failing step must not stop the next
        step_failed(name, error)
        return None


async def purge_once(shop: Shop) -> dict[str, int]:
    """Every purge, each on its own; returns how many rows each dropped."""
    dropped: dict[str, int] = {}
    whole, chunked = purges()
    for name, purge in whole.items():
        dropped[name] = await step(shop, name, lambda s, purge=purge: purge(session=s)) or 0
    for name, purge in chunked.items():
        dropped[name] = 0
        for _chunk in range(PURGE_CHUNKS):
            went = await step(shop, name,
                              lambda s, purge=purge: purge(session=s, limit=PURGE_CHUNK))
            dropped[name] += went or 0
            if not went or went < PURGE_CHUNK:
                break
    return dropped


async def _expire_unpaid(shop: Shop) -> list[str] | None:
    """The unpaid-order expiry, alone in its transaction (nothing else can undo it), then
    each payment page closed; the numbers expired, None when the expiry itself failed."""
    async def expire(session: AsyncSession) -> list[tuple[int, str]]:
        return [(order.id, order.number)
                for order in await orders.expire_unpaid(session=session)]

    expired = await step(shop, "orders.expire_unpaid", expire)
    for order_id, _number in expired or []:  # after the expiry committed: a slow gateway
        await step(shop, "payments.close_open", lambda s, order_id=order_id: (  # can't hold it
            payments.close_open(session=s, order_id=order_id, gateways=shop.gateways)))
    for _order_id, number in expired or []:
        logs.event(log, "order.payment_expired", order=number)
    return None if expired is None else [number for _order_id, number in expired]


async def _upkeep(shop: Shop) -> None:
    await purge_once(shop)
    minutes = shop.settings.support_escalate_minutes
    if minutes:
        waiting = await step(shop, "conversations.escalate", lambda s: conversations.escalate(
            session=s, older_than=timedelta(minutes=minutes))) or []
        if waiting:
            logs.event(log, "support.escalated", handoffs=",".join(map(str, waiting)))


async def expire_once(shop: Shop) -> list[str]:
    """The expiry and the upkeep (purges, escalations); the order numbers expired."""
    numbers = await _expire_unpaid(shop)
    await _upkeep(shop)
    return numbers or []


async def sweep_once(shop: Shop) -> bool:
    """One whole sweep, each step on its own; False only when the unpaid-order expiry
    failed (the database is unreachable, say), which is what the heartbeat should show."""
    numbers = await _expire_unpaid(shop)
    await _upkeep(shop)
    await nudge_once(shop)
    return numbers is not None


async def nudge_once(shop: Shop, max_batches: int = 100) -> dict[str, int]:
    """One round of nudges and staff alerts, each step in its own transaction(s) and its own
    `try`: what a failing step leaves undone waits for the next round, and the other steps
    go on. Returns what each step did."""
    settings, chat_url = shop.settings, f"{shop.settings.base_url}/chat"
    done = {"alerts": 0, "back_in_stock": 0, "cart_reminders": 0}
    done["alerts"] = await step(shop, "staff_alerts.send_due", lambda s: staff_alerts.send_due(
        session=s, window=timedelta(seconds=settings.staff_alerts_batch_seconds),
        alert_key=alerts_key(settings), console_url=f"{settings.base_url}/admin")) or 0
    for _round in range(max_batches):  # a big list: many small transactions
        taken = await step(shop, "back_in_stock.tell_waiting", lambda s: back_in_stock
                           .tell_waiting(session=s, chat_url=chat_url))
        if not taken:
            break
        done["back_in_stock"] += taken
    if settings.cart_reminder_hours:
        done["cart_reminders"] = await step(
            shop, "cart_reminders.remind_due", lambda s: cart_reminders.remind_due(
                session=s, older_than=timedelta(hours=settings.cart_reminder_hours),
                vault=shop.vault, chat_url=chat_url)) or 0
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
    """Sweep every `interval` seconds; `beat` after each sweep whose unpaid-order expiry
    worked (the worker's health check watches it): any other step failing is logged by
    `step` and does not stop the beat."""
    while True:
        try:
            if await sweep_once(shop) and beat is not None:
                beat()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one bad sweep must not stop the next
            log.exception("sweeper.failed")
        await asyncio.sleep(interval)
