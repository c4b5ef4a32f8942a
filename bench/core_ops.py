"""The commerce core under load: the checkout race and the cart-update loop.

- race: SHOPPERS shoppers, each with one unit in their cart, place orders at once for
  UNITS units; orders per second and how many were oversold (must be 0).
- cart loop: one shopper changing a cart line, one transaction per change (a chat turn's
  write): changes per second, p50/p99 latency; then CONCURRENT shoppers doing the same.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from core.audit.actor import Actor, Channel
from core.carts import service as carts
from core.carts.models import Cart
from core.catalog import service as catalog
from core.config import load_settings
from core.errors import Conflict
from core.inventory.models import Reservation, StockItem
from core.orders import service as orders
from core.shop import Shop

SHOPPERS, UNITS, ROUNDS = 50, 10, 5
LOOP_CHANGES, CONCURRENT, CONCURRENT_CHANGES = 400, 20, 40
ACTOR = Actor(Channel.WEB, label="bench")


async def _product(shop: Shop, name: str, stock: int) -> int:
    async with shop.transaction() as session:
        category = await catalog.ensure_category(session=session, path="Bench", actor=ACTOR)
        product = await catalog.create_product(
            session=session, actor=ACTOR, sku=f"B-{name}", name=name, price_minor=1000,
            currency="EUR", category=category, stock=stock, low_stock_threshold=0)
        return product.id


async def race(shop: Shop, round_no: int) -> dict[str, float]:
    product_id = await _product(shop, f"race{round_no}", UNITS)
    cart_ids = []
    async with shop.transaction() as session:
        for n in range(SHOPPERS):
            cart = await carts.cart_for(session=session, currency="EUR",
                                        session_key=f"race{round_no}:{n}")
            await carts.add_item(session=session, cart=cart, product_id=product_id,
                                 actor=ACTOR)
            cart_ids.append(cart.id)

    async def checkout(cart_id: int) -> bool:
        try:
            async with shop.transaction() as session:
                cart = await session.get(Cart, cart_id)
                await orders.place_order(session=session, cart=cart, actor=ACTOR,
                                         reservation_minutes=30)
            return True
        except Conflict:
            return False

    started = time.perf_counter()
    won = await asyncio.gather(*(checkout(cart_id) for cart_id in cart_ids))
    elapsed = time.perf_counter() - started
    async with shop.transaction() as session:
        held = await session.scalar(select(func.coalesce(func.sum(Reservation.quantity), 0))
                                    .where(Reservation.product_id == product_id))
        stock = await session.get(StockItem, product_id)
    return {"attempts_per_s": SHOPPERS / elapsed, "won": sum(won),
            "oversold": max(0, int(held or 0) - UNITS) + max(0, -stock.available)}


async def cart_loop(shop: Shop) -> dict[str, float]:
    product_id = await _product(shop, "loop", 10_000)
    async with shop.transaction() as session:
        cart = await carts.cart_for(session=session, currency="EUR", session_key="loop")
        await carts.add_item(session=session, cart=cart, product_id=product_id, actor=ACTOR)
        cart_id = cart.id

    async def change(key_cart: int, quantity: int) -> float:
        started = time.perf_counter()
        async with shop.transaction() as session:
            cart = await session.get(Cart, key_cart)
            await carts.set_quantity(session=session, cart=cart, product_id=product_id,
                                     quantity=quantity, actor=ACTOR)
        return time.perf_counter() - started

    latencies = [await change(cart_id, 1 + n % 5) for n in range(LOOP_CHANGES)]

    concurrent_carts = []
    async with shop.transaction() as session:
        for n in range(CONCURRENT):
            cart = await carts.cart_for(session=session, currency="EUR", session_key=f"c{n}")
            await carts.add_item(session=session, cart=cart, product_id=product_id,
                                 actor=ACTOR)
            concurrent_carts.append(cart.id)

    async def shopper(cart: int) -> None:
        for n in range(CONCURRENT_CHANGES):
            await change(cart, 1 + n % 5)

    started = time.perf_counter()
    await asyncio.gather(*(shopper(cart) for cart in concurrent_carts))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "cart_changes_per_s": LOOP_CHANGES / sum(latencies),
        "cart_p50_ms": statistics.median(ordered) * 1000,
        "cart_p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
        "cart_changes_per_s_concurrent": CONCURRENT * CONCURRENT_CHANGES / elapsed,
    }


async def measure(database_url: str, data_dir: Path) -> dict[str, Any]:
    settings = load_settings(DATABASE_URL=database_url, CHATCART_DATA_DIR=str(data_dir),
                             CHATCART_SECRET_KEY="bench-secret-key-0123456789abcdef012345")
    shop = Shop.from_settings(settings)
    try:
        await shop.migrate()
        rounds = [await race(shop, n) for n in range(ROUNDS)]
        loop = await cart_loop(shop)
    finally:
        await shop.close()
    return {
        "race_orders_attempted_per_s": statistics.median(r["attempts_per_s"] for r in rounds),
        "race_won_per_round": statistics.median(r["won"] for r in rounds),
        "oversold": int(sum(r["oversold"] for r in rounds)),
        **loop,
    }


async def run_all() -> dict[str, Any]:
    from tests.support import servers

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = await measure(f"sqlite+aiosqlite:///{folder}/bench.db",
                                          Path(folder) / "data")
        if reason := servers.postgres_available():
            print(f"PostgreSQL skipped: {reason}")
        else:
            with servers.PostgresServer() as server:
                url = server.create_database("bench")
                results["postgresql"] = await measure(url, Path(folder) / "data-pg")
    return {"core": results}


def table(figures: dict[str, Any]) -> str:
    rows = figures["core"]
    names = [
        ("race_orders_attempted_per_s", "checkout race: attempts/s (50 shoppers, 10 units)"),
        ("race_won_per_round", "checkout race: orders won per round"),
        ("oversold", "checkout race: units oversold"),
        ("cart_changes_per_s", "cart change: per s (1 shopper)"),
        ("cart_p50_ms", "cart change: p50 ms"),
        ("cart_p99_ms", "cart change: p99 ms"),
        ("cart_changes_per_s_concurrent", f"cart change: per s ({CONCURRENT} shoppers)"),
    ]
    backends = list(rows)
    lines = [f"{'':52}" + "".join(f"{b:>14}" for b in backends)]
    for key, label in names:
        lines.append(f"{label:52}" + "".join(f"{rows[b][key]:>14.1f}" for b in backends))
    return "\n".join(lines)
