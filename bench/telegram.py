"""Telegram webhook turns per second for a realistic mix, through the real ASGI app in-process,
with replies sent by aiogram to a local Bot API double over HTTP.

Each simulated shopper starts, browses a category, opens a product, adds it, searches in
free text, changes a quantity and views the cart: updates shaped as Telegram sends them.
Latency is the webhook's answer (the turn done, its replies queued); throughput counts
until every reply has reached the Bot API. Sending runs without the platform's pace
(1 message a second per chat), which measures our cost rather than Telegram's rule.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bot import heap
from bot.channels.delivery import Limits
from bot.demo import fill
from bot.pipeline import Understander
from bot.server import create_app
from core.catalog.models import Category, Product
from core.config import load_settings
from core.shop import Shop
from tests.support.platforms import BOT_TOKEN, FakeTelegram

SHOPPERS, ROUNDS = 8, 8
SECRET = "bench-webhook-secret-0123456789"
TEXTS = ["do you have blue mugs under 15", "show me lamps", "add two of the first one",
         "make it 3", "what's in my cart"]
UNPACED = Limits(per_chat_rate=10_000, per_chat_burst=10_000, global_rate=100_000)
_ids = itertools.count(1)


def _update(chat: int, text: str | None = None, data: str | None = None,
            message_id: int = 1) -> dict[str, Any]:
    user = {"id": chat, "is_bot": False, "first_name": "Bench"}
    where = {"id": chat, "type": "private", "first_name": "Bench"}
    if text is not None:
        message = {"message_id": next(_ids), "from": user, "chat": where, "date": 1700000000,
                   "text": text}
        return {"update_id": next(_ids), "message": message}
    shown = {"message_id": message_id, "chat": where, "date": 1700000000, "text": "…",
             "from": {"id": 1, "is_bot": True, "first_name": "Shop"}}
    return {"update_id": next(_ids), "callback_query": {
        "id": str(next(_ids)), "from": user, "message": shown, "chat_instance": "1",
        "data": data}}


async def shopper_updates(client: httpx.AsyncClient, chat: int, plan: list[str],
                          api: FakeTelegram, latencies: list[float]) -> None:
    """One shopper's updates, each posted when the last was answered (its latency kept):
    /start, the button `plan`, free text, the cart; four rounds."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def post(update: dict[str, Any]) -> None:
        started = time.perf_counter()
        response = await client.post("/telegram/webhook", json=update, headers=headers)
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()

    for _ in range(ROUNDS):
        await post(_update(chat, text="/start"))
        for data in plan:
            last = max((mid for (c, mid) in api.messages if c == str(chat)), default=1)
            await post(_update(chat, data=data, message_id=last))
        for text in TEXTS:
            await post(_update(chat, text=text))
        await post(_update(chat, data="cart"))


async def demo_plan(shop: Shop) -> list[str]:
    """Fill the demo shop; the buttons a shopper presses: the categories, the first
    subcategory's page, its first product, add it."""
    await fill(shop)
    async with shop.transaction() as session:
        category = await session.scalar(select(Category.id).where(
            Category.parent_id.is_not(None)).order_by(Category.id).limit(1))
        product = await session.scalar(select(Product.id).where(
            Product.category_id == category).order_by(Product.id).limit(1))
    return ["cats", f"cat:{category}:1", f"prod:{product}", f"add:{product}:1"]


async def measure(nlu: Understander) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        async with FakeTelegram() as api:
            settings = load_settings(
                DATABASE_URL=f"sqlite+aiosqlite:///{folder}/bench.db",
                CHATCART_DATA_DIR=str(Path(folder) / "data"),
                CHATCART_SECRET_KEY="bench-secret-key-0123456789abcdef012345",
                TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_BASE=api.url,
                TELEGRAM_WEBHOOK_SECRET=SECRET,
                CHAT_FLOOD_LIMIT=0)  # scripted shoppers outpace any person
            shop = Shop.from_settings(settings)
            plan = await demo_plan(shop)
            app = create_app(settings, shop, nlu=nlu, sweep_seconds=3600, limits=UNPACED)
            latencies: list[float] = []
            async with app.router.lifespan_context(app):
                heap.settle()  # as `chatcart serve` does once started
                sender = app.state.telegram.sender
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                    await shopper_updates(client, 999_999, plan, api, [])  # warm up
                    await sender.drain(60)
                    sent_before = sender.sent
                    started = time.perf_counter()
                    await asyncio.gather(*(shopper_updates(client, 1000 + n, plan, api, latencies)
                                           for n in range(SHOPPERS)))
                    await sender.drain(120)
                    elapsed = time.perf_counter() - started
                    sent = sender.sent - sent_before
            await shop.close()
    ordered = sorted(latencies)
    return {"telegram_turns_per_s": len(latencies) / elapsed,
            "telegram_p50_ms": statistics.median(ordered) * 1000,
            "telegram_p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
            "telegram_turns": len(latencies), "telegram_api_calls": sent}
