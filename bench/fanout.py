"""Fan-out: one restock told to 10,000 back-in-stock subscribers (half Telegram chats, half
signed-in accounts mailed), through the real path: the stock change records the restock,
the sweeper's round (`bot.sweeper.nudge_once`) calls `notify` once per subscriber in
transactions of `back_in_stock.BATCH`, while the outbox relay (as a worker runs it)
delivers through the paced Telegram channel (to a local Bot API double over HTTP) and the
mail channel (to a real aiosmtpd server on loopback), all in one process.

Figures: the time to enqueue (restock commit to every subscriber queued), the delivery
rate (first to last message received by the doubles), duplicates (counted from what the
doubles received, also after the round is run again: must be 0), and the process's peak
memory (ru_maxrss, and its growth over the enqueue). Telegram is paced at its per-chat rule
(1 a second, bursts of 3) with a global cap of `GLOBAL_RATE` instead of Telegram's 30 a
second, which would make 5,000 chats take 170 s whatever the code does. The run waits at
most `WAIT` seconds from the restock for deliveries, and says how many arrived.

`python -m bench.fanout [--subscribers N] [--backend sqlite|postgresql|both]`; `make bench`
runs it on SQLite (PostgreSQL doubles the run's time, so it is asked for).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bot import sweeper
from bot.channels.delivery import Limits
from bot.jobs import deliver_through, sending_channels
from bot.mail_channel import MailChannel
from bot.relay import Relay
from core.accounts.models import Role, User
from core.audit.actor import Actor
from core.catalog import service as catalog
from core.config import load_settings
from core.inventory import service as inventory
from core.migrate import upgrade
from core.notifications.preferences import holder_for
from core.nudges.back_in_stock import BATCH
from core.nudges.models import BackInStockSubscription
from core.shop import Shop
from tests.support import servers
from tests.support.platforms import BOT_TOKEN, FakeTelegram
from tests.support.smtp import smtp_server

SUBSCRIBERS = 10_000
GLOBAL_RATE = 2_000.0
WAIT = 105.0   # seconds from the restock the run waits for deliveries, at most
ADMIN = Actor.system("bench")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _subscribe(shop: Shop, product_id: int, count: int) -> None:
    """`count` waiting subscribers, inserted in bulk: even ids a Telegram chat, odd ids an
    account mailed at its address."""
    half = count // 2
    async with shop.transaction() as session:
        users = [{"email": f"fan{n}@example.com", "password_hash": "x", "role": Role.CUSTOMER}
                 for n in range(count - half)]
        ids = list(await session.scalars(insert(User).returning(User.id), users))
        rows: list[dict[str, Any]] = []
        for n in range(half):
            key = f"telegram:{900000 + n}"
            rows.append({"product_id": product_id, "chat_key": key,
                         "holder": holder_for(shop.vault, chat_key=key)})
        rows += [{"product_id": product_id, "user_id": user_id, "holder": f"user:{user_id}"}
                 for user_id in ids]
        for start in range(0, len(rows), 1000):
            await session.execute(insert(BackInStockSubscription), rows[start:start + 1000])


def _duplicates(values: list[str]) -> int:
    return sum(seen - 1 for seen in collections.Counter(values).values() if seen > 1)


async def measure(database_url: str, folder: Path, subscribers: int = SUBSCRIBERS,
                  label: str = "sqlite") -> dict[str, float]:
    async with FakeTelegram() as telegram:
        with smtp_server() as inbox:
            settings = load_settings(
                DATABASE_URL=database_url, CHATCART_DATA_DIR=str(folder / "data"),
                CHATCART_SECRET_KEY="bench-secret-key-0123456789abcdef012345",
                TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_BASE=telegram.url,
                TELEGRAM_WEBHOOK_SECRET="bench-webhook-secret-0123456789",
                SMTP_URL=inbox.url, CHAT_FLOOD_LIMIT=0, CART_REMINDER_HOURS=0)
            shop = Shop.from_settings(settings)
            await upgrade(shop.engine)
            async with shop.transaction() as session:
                shelf = await catalog.ensure_category(session=session, path="Mugs", actor=ADMIN)
                mug = await catalog.create_product(
                    session=session, actor=ADMIN, sku="MUG-FAN", name="Speckled mug",
                    price_minor=1600, currency=settings.shop_currency, category=shelf, stock=0)
                mug_id = mug.id
            await _subscribe(shop, mug_id, subscribers)
            rss_before = _rss_mb()

            limits = Limits(per_chat_rate=1.0, per_chat_burst=3, global_rate=GLOBAL_RATE)
            channels = sending_channels(settings, limits)
            channels["email"] = MailChannel(shop)
            relay = Relay(shop, deliver_through(channels), list(channels), interval=0.2)
            task = asyncio.create_task(relay.run_forever())  # a worker's relay, running along

            mails: list[str] = []   # recipients; the parsed mail itself is let go

            def received() -> int:
                arrived = inbox.received[:]
                del inbox.received[:len(arrived)]
                mails.extend(address for mail in arrived for address in mail.recipients)
                return len(telegram.of("sendMessage")) + len(mails)
            started = time.perf_counter()
            async with shop.transaction() as session:
                await inventory.adjust(session=session, product_id=mug_id, delta=500,
                                       reason="delivery", actor=ADMIN)
            first: float | None = None
            while (await sweeper.nudge_once(shop, max_batches=1))["back_in_stock"]:
                relay.wake()
                if first is None and received():
                    first = time.perf_counter()
            enqueue_s = time.perf_counter() - started
            rss_enqueued = _rss_mb()
            deadline = started + WAIT
            while received() < subscribers and time.perf_counter() < deadline:
                relay.wake()
                await asyncio.sleep(0.05)
                if first is None and received():
                    first = time.perf_counter()
            total_s = time.perf_counter() - started
            delivered = received()
            deliver_s = time.perf_counter() - (first or started)  # first to last arrival
            await sweeper.nudge_once(shop)   # a replayed round: nobody is told again
            await asyncio.sleep(1.0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            for channel in channels.values():
                await channel.close()
            chats = [call.chat for call in telegram.of("sendMessage")]
            received()
            await shop.close()
    return {
        f"fanout_{label}_subscribers": float(subscribers),
        f"fanout_{label}_enqueue_s": enqueue_s,
        f"fanout_{label}_enqueue_per_s": subscribers / enqueue_s,
        f"fanout_{label}_delivered": float(delivered),
        f"fanout_{label}_deliver_s": deliver_s,
        f"fanout_{label}_total_s": total_s,
        f"fanout_{label}_delivered_per_s": delivered / deliver_s,
        f"fanout_{label}_duplicates": float(_duplicates(chats) + _duplicates(mails)),
        f"fanout_{label}_peak_rss_mb": _rss_mb(),
        f"fanout_{label}_rss_growth_mb": rss_enqueued - rss_before,
    }


async def run(subscribers: int = SUBSCRIBERS, postgres: bool = True,
              sqlite: bool = True) -> dict[str, float]:
    figures: dict[str, float] = {}
    if sqlite:
        with tempfile.TemporaryDirectory() as folder:
            figures |= await measure(f"sqlite+aiosqlite:///{folder}/fanout.db", Path(folder),
                                     subscribers)
    if postgres and servers.postgres_available() is None:
        with tempfile.TemporaryDirectory() as folder, servers.PostgresServer() as server:
            figures |= await measure(server.create_database("fanout"), Path(folder),
                                     subscribers, label="postgresql")
    return figures


def table(figures: dict[str, float]) -> str:
    lines = []
    for label in ("sqlite", "postgresql"):
        got = {name[len(f"fanout_{label}_"):]: value for name, value in figures.items()
               if name.startswith(f"fanout_{label}_")}
        if not got:
            continue
        lines.append(
            f"Fan-out on {label}: one restock to {got['subscribers']:.0f} subscribers (half "
            f"Telegram, half mail): enqueued in {got['enqueue_s']:.1f} s "
            f"({got['enqueue_per_s']:.0f}/s, {BATCH} per transaction); delivered "
            f"{got['delivered']:.0f} at {got['delivered_per_s']:.0f}/s through the paced relay "
            f"running alongside (global cap {GLOBAL_RATE:.0f}/s), {got['total_s']:.1f} s from "
            f"the restock; duplicates {got['duplicates']:.0f}; peak RSS "
            f"{got['peak_rss_mb']:.0f} MB (+{got['rss_growth_mb']:.0f} MB over the enqueue)")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=SUBSCRIBERS)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    options = parser.parse_args()
    print(table(asyncio.run(run(options.subscribers, postgres=options.backend != "sqlite",
                                sqlite=options.backend != "postgresql"))))
