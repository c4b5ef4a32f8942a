"""The scale-out shape for real: two `chatcart serve --no-jobs` processes and one
`chatcart worker` on PostgreSQL and Redis, with shoppers on the web chat and Telegram
whose messages land on either process at random. Fewer blue mugs than buyers want.

Nothing may be sold twice, no update handled twice, no reply lost, and every paid order
confirmed exactly once: web chat confirmations collected from whichever process the
browser asks, Telegram ones sent by the worker.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.nlu.embedded import build_embedded
from core.accounts.models import Role
from core.carts.models import Cart, CartLine
from core.catalog import service as catalog
from core.inventory import service as inventory
from core.orders.models import Order, OrderLine
from core.orders.states import CAPTURED
from core.outbox.models import OutboxMessage
from core.shop import Shop
from tests import factories
from tests.admin_web.console import ConsoleUser
from tests.conftest import SECRET, UNLIMITED_CLIENT, make_settings, new_database_url
from tests.e2e.checkout_steps import to_review
from tests.e2e.cluster import Processes, wait_healthy
from tests.e2e.conftest import TELEGRAM_SECRET
from tests.e2e.platforms import TelegramUser
from tests.e2e.webchat import Shopper
from tests.factories import ADMIN
from tests.support.demo_copy import demo_filled
from tests.support.platforms import BOT_TOKEN, FakeTelegram
from tests.support.servers import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
MUGS = 9            # on the shelf: four buyers of two, and one left over
WEB_BUYERS = 8
TELEGRAM_BUYERS = 4
STAFF, PASSWORD = "desk@example.com", "correct horse battery"


@pytest.fixture
def cluster(request: pytest.FixtureRequest, tmp_path: Path, redis_server: Any,
            telegram_api: FakeTelegram) -> Iterator[tuple[list[str], Shop, Processes]]:
    url = new_database_url(request, "postgresql", tmp_path)
    data = tmp_path / "data"
    settings = make_settings(url, data)
    build_embedded(data / "nlu-model.joblib")  # trained once here, loaded by each process

    async def prepare() -> None:
        shop = Shop.from_settings(settings)
        await demo_filled(shop)
        async with shop.transaction() as session:
            mug = await catalog.get_by_sku(session=session, sku="MUG-BLUE-350")
            await inventory.set_on_hand(session=session, product_id=mug.id, on_hand=MUGS,
                                        reason="the last of them", actor=ADMIN)
            await factories.user(session, STAFF, password=PASSWORD, role=Role.SUPPORT)
        redis = Redis.from_url(redis_server.url)
        await redis.flushdb()
        await redis.aclose()
        await shop.close()

    asyncio.run(prepare())
    ports = [free_port(), free_port()]
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    env.update(DATABASE_URL=url, REDIS_URL=redis_server.url, CHATCART_DATA_DIR=str(data),
               CHATCART_SECRET_KEY=SECRET, TELEGRAM_BOT_TOKEN=BOT_TOKEN,
               TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET, TELEGRAM_API_BASE=telegram_api.url,
               PUBLIC_BASE_URL=f"http://127.0.0.1:{ports[0]}", LOG_LEVEL="WARNING",
               CHAT_FLOOD_LIMIT="0", **UNLIMITED_CLIENT)  # scripted shoppers, one address
    processes = Processes(env, tmp_path)
    try:
        for n, port in enumerate(ports):
            processes.start(f"app{n}", "serve", "--no-jobs", "--port", str(port))
        processes.start("worker", "worker", "--sweep-seconds", "1")
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        wait_healthy(bases, processes)
        shop = Shop.from_settings(settings)
        yield bases, shop, processes
        asyncio.run(shop.close())
    finally:
        processes.stop()


class Wandering(Shopper):
    """A web chat shopper whose every request reaches one process or the other."""

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        super().__init__(clients[0])
        self.clients, self.confirmations = clients, []

    async def _post(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        self.client = random.choice(self.clients)
        replies = await super()._post(body)
        assert replies, f"no reply to {body}"
        return replies

    async def collect(self, seconds: float) -> None:
        """Ask either process for news until `seconds` pass."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.client = random.choice(self.clients)
            self.confirmations += [r["text"] for r in await self.news(wait=1)]


async def _web_buyer(shopper: Wandering, clients: list[httpx.AsyncClient]) -> str | None:
    """Two blue mugs, checkout, pay on the other process; the order number, or None when
    the mugs were gone first."""
    try:
        await to_review(shopper)
        await shopper.press("Pay €29.90")
    except AssertionError:
        return None
    if not any(reply["links"] for reply in shopper.last):
        assert "of Blue mug left" in shopper.text, shopper.text  # sold to someone else
        return None
    number = shopper.text.split("Order ")[1].split(" ")[0]
    paid = await random.choice(clients).post(shopper.payment_path(), data={"outcome": "pay"})
    assert paid.status_code == 200
    return number


async def _telegram_buyer(person: TelegramUser, clients: list[httpx.AsyncClient],
                          items: str = "2 blue mugs") -> str | None:
    try:
        await to_review(person, "IE", items=items)
        sent = await person.press("Pay €")
    except AssertionError:
        return None
    text = sent[-1].text
    if "/pay/test/" not in text:
        assert "of Blue mug left" in text, text
        return None
    number = text.split("Order ")[1].split(" ")[0]
    url = next(word for word in text.split() if "/pay/test/" in word)
    paid = await random.choice(clients).post(urlsplit(url).path, data={"outcome": "pay"})
    assert paid.status_code == 200
    return number


class Anywhere:
    """An httpx client whose every request goes to one process or the other."""

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self.clients = clients

    async def post(self, *args: Any, **kwargs: Any) -> httpx.Response:
        return await random.choice(self.clients).post(*args, **kwargs)


async def _console_news(desk: httpx.AsyncClient, words: str) -> dict[str, Any]:
    """The first news on the console's live stream whose text has `words`."""
    page = await desk.get("/admin/")
    assert page.status_code == 200, "signed in"
    stream = page.text.split('data-live="', 1)[1].split('"', 1)[0]
    async with desk.stream("GET", stream) as lines:
        async for line in lines.aiter_lines():
            if line.startswith("data: ") and words in line:
                return json.loads(line.removeprefix("data: "))
    raise AssertionError("the stream ended without the news")


async def test_two_servers_and_a_worker_sell_each_mug_once_and_confirm_each_order_once(
        cluster: tuple[list[str], Shop, Processes], telegram_api: FakeTelegram) -> None:
    bases, shop, processes = cluster
    random.seed(7)
    clients = [httpx.AsyncClient(base_url=base, timeout=30) for base in bases]
    try:
        web = [Wandering(clients) for _ in range(WEB_BUYERS)]

        async def settle() -> None:
            await asyncio.sleep(0.05)

        telegram = [TelegramUser(Anywhere(clients), telegram_api, TELEGRAM_SECRET,  # type: ignore[arg-type]
                                 settle, user_id=700_000 + n, first_name=f"Tg{n}")
                    for n in range(TELEGRAM_BUYERS)]
        # Two messages of one chat at the same moment, one to each process: handled in
        # turn, so both land in the cart (a lost update would leave one mug).
        both = Wandering(clients)
        await both.say("hello")  # the chat exists: nothing else holds its turns apart
        # (its token, issued by one process, is taken by the other: they share the key)
        await asyncio.gather(clients[0].post("/webchat/api/messages", json={
            "session": both.session, "text": "add 1 red mug"}), clients[1].post(
            "/webchat/api/messages", json={"session": both.session, "text": "add 1 red mug"}))
        # One Telegram update delivered to both processes at once (a retry racing the
        # original): handled once.
        twice = TelegramUser(clients[0], telegram_api, TELEGRAM_SECRET, settle,  # type: ignore[arg-type]
                             user_id=799_999, first_name="Twice")
        update = twice.message_update("show my cart")
        answers = await asyncio.gather(*(client.post("/telegram/webhook", json=update, headers={
            "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}) for client in clients))
        assert [a.status_code for a in answers] == [200, 200]

        bought = await asyncio.gather(*(_web_buyer(s, clients) for s in web),
                                      *(_telegram_buyer(p, clients) for p in telegram))
        # One Telegram order that is sure to be placed: its confirmation comes from the
        # worker (the serving processes run no jobs).
        sure = TelegramUser(Anywhere(clients), telegram_api, TELEGRAM_SECRET,  # type: ignore[arg-type]
                            settle, user_id=790_000, first_name="Sure")
        red = await _telegram_buyer(sure, clients, items="1 red mug")
        assert red, "a red mug is always there to buy"
        telegram.append(sure)
        bought.append(red)
        await asyncio.gather(*(s.collect(4) for s in web))
        await asyncio.sleep(1)

        # A browser waiting on one process hears of a payment made on the other at once:
        # through Redis, well before the process's own look every ten seconds.
        prompt = Wandering(clients)
        await to_review(prompt, items="1 red mug")
        await prompt.press("Pay €")
        prompt.client = clients[0]
        waiting = asyncio.create_task(prompt.news(wait=9))
        # So does a member of staff with the console open on that process.
        desk = httpx.AsyncClient(base_url=bases[0], timeout=30)
        await ConsoleUser(desk, STAFF, PASSWORD).sign_in()  # staff enrol a second factor
        console = asyncio.create_task(_console_news(desk, "is paid"))
        await asyncio.sleep(0.5)
        paid_at = time.monotonic()
        await clients[1].post(prompt.payment_path(), data={"outcome": "pay"})
        heard = await waiting
        assert any("is confirmed" in r["text"] for r in heard), heard
        assert time.monotonic() - paid_at < 3, "woken through Redis, not by the timer"
        news = await asyncio.wait_for(console, 5)
        assert news["link"].startswith("/admin/orders/") and news["alert"], news
        assert time.monotonic() - paid_at < 3, "the console heard it through Redis"
        await desk.aclose()

        placed = [number for number in bought if number and number != red]  # blue mugs
        assert 1 <= len(placed) <= MUGS // 2, processes.logs()
        for shopper, number in zip(web, bought, strict=False):
            confirmed = [t for t in shopper.confirmations if "is confirmed" in t]
            assert len(confirmed) == (1 if number else 0), (number, shopper.confirmations)
            assert not number or f"Order {number} is confirmed" in confirmed[0]
        for person, number in zip(telegram, bought[WEB_BUYERS:], strict=False):
            await telegram_api.wait_for(lambda p=person, n=number: not n or any(
                f"Order {n} is confirmed" in c.text for c in p.mine()), seconds=15)
            confirmed = [c for c in person.mine() if "is confirmed" in c.text]
            assert len(confirmed) == (1 if number else 0), (number, person.mine())
        replies = [c for c in telegram_api.calls
                   if c.chat == "799999" and c.method in ("sendMessage", "sendPhoto")]
        assert len(replies) == 1, "the update reached both processes and was handled once"

        async with shop.transaction() as session:
            mug = await catalog.get_by_sku(session=session, sku="MUG-BLUE-350")
            stock = await inventory.get(session=session, product_id=mug.id)
            sold = await session.scalar(
                select(func.coalesce(func.sum(OrderLine.quantity), 0))
                .join(Order, Order.id == OrderLine.order_id)
                .where(OrderLine.sku == "MUG-BLUE-350", Order.status.in_(CAPTURED)))
            assert sold == 2 * len(placed) and stock.on_hand == MUGS - sold >= 0
            assert stock.reserved == 0
            red = await catalog.get_by_sku(session=session, sku="MUG-RED-350")
            lines = await session.scalars(select(CartLine).join(Cart).where(
                Cart.session_key == both.chat_key, CartLine.product_id == red.id))
            assert [line.quantity for line in lines] == [2], "both messages counted"
            unsent = await session.scalar(select(func.count()).select_from(OutboxMessage)
                                          .where(OutboxMessage.sent_at.is_(None)))
            assert unsent == 0, processes.logs()
        redis = Redis.from_url(processes.env["REDIS_URL"])
        state = json.loads(await redis.get(f"chatcart:chat:{both.chat_key}"))
        await redis.aclose()
        assert state["turn"] == 3, "the chat's two turns must run one after the other, " \
            "not over each other (the Redis lock), each seeing the state the other left\n" + \
            processes.logs()
        for name, _, _ in processes.running:
            log = (processes.folder / f"{name}.log").read_text()
            assert "Traceback" not in log, f"{name}:\n{log[-3000:]}"
            assert "listen_failed" not in log, f"{name} lost its Redis subscription:\n{log}"
    finally:
        for client in clients:
            await client.aclose()
