"""Web chat turns per second for a realistic mix, through the real ASGI app in-process.

Each simulated shopper opens the menu, browses a category, opens a product, adds it,
searches in free text, changes a quantity and views the cart. Measured on SQLite with
one process; the HTTP server's own cost is left out (the benchmarks issue adds it).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bot import heap
from bot.demo import fill
from bot.pipeline import Understander
from bot.server import create_app
from core.config import load_settings
from core.shop import Shop

SHOPPERS, ROUNDS = 8, 6
TEXTS = ["do you have blue mugs under 15", "show me lamps", "add two of the first one",
         "make it 3", "what's in my cart"]


async def _shopper(client: httpx.AsyncClient, latencies: list[float]) -> None:
    session: dict[str, str] = {}  # the chat's token, once the server issued it

    async def post(body: dict[str, Any]) -> list[dict[str, Any]]:
        started = time.perf_counter()
        response = await client.post("/webchat/api/messages", json={**session, **body})
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
        session["session"] = response.json()["session"]
        return response.json()["replies"]

    def first_action(replies: list[dict[str, Any]], prefix: str) -> str:
        return next(b["action"] for r in replies for b in r["buttons"]
                    if b["action"].startswith(prefix))

    for _ in range(ROUNDS):
        await post({"action": "menu"})
        categories = await post({"action": "cats"})
        products = await post({"action": first_action(categories, "cat:")})
        card = await post({"action": first_action(products, "prod:")})
        if any(b["action"].startswith("add:") for r in card for b in r["buttons"]):
            await post({"action": first_action(card, "add:")})
        for text in TEXTS:
            await post({"text": text})
        await post({"action": "cart"})


async def measure(nlu: Understander) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(DATABASE_URL=f"sqlite+aiosqlite:///{folder}/bench.db",
                                 CHATCART_DATA_DIR=str(Path(folder) / "data"),
                                 CHATCART_SECRET_KEY="bench-secret-key-0123456789abcdef012345",
                                 # scripted shoppers outpace any person, from one address
                                 CHAT_FLOOD_LIMIT=0, WEBCHAT_NEW_CHATS_PER_MINUTE=0,
                                 WEBCHAT_MESSAGES_PER_MINUTE=0)
        shop = Shop.from_settings(settings)
        await fill(shop)
        app = create_app(settings, shop, nlu=nlu, sweep_seconds=3600)
        latencies: list[float] = []
        async with app.router.lifespan_context(app):
            heap.settle()  # as `chatcart serve` does once started
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                await _shopper(client, [])  # warm up
                started = time.perf_counter()
                await asyncio.gather(*(_shopper(client, latencies)
                                       for _ in range(SHOPPERS)))
                elapsed = time.perf_counter() - started
        await shop.close()
    ordered = sorted(latencies)
    return {"webchat_turns_per_s": len(latencies) / elapsed,
            "webchat_p50_ms": statistics.median(ordered) * 1000,
            "webchat_p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
            "webchat_turns": len(latencies)}
