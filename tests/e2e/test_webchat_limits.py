"""Limits per client address on the web chat: fresh chats and messages counted by address
(every process together through Redis), open polls capped per address and per process.
A refused request gets a 429 that says why and changes nothing."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.server import create_app
from core.accounts.models import ChatIdentity
from core.config import Settings
from core.outbox import service as outbox
from core.shop import Shop
from tests.conftest import make_settings
from tests.e2e.webchat import Shopper


def limited(database_url: str, folder: Path, **limits: object) -> Settings:
    """Settings with the shipped per-client defaults, except `limits`."""
    shipped = {str(field.validation_alias): str(field.default)
               for name, field in Settings.model_fields.items() if name.startswith("webchat_")}
    return make_settings(database_url, folder / "data", **{**shipped, **limits})


@asynccontextmanager
async def app_for(settings: Settings, nlu, shop: Shop | None = None,
                  ) -> AsyncIterator[tuple[object, Shop]]:
    own = shop is None
    shop = shop or Shop.from_settings(settings)
    app = create_app(settings, shop, nlu=nlu, sweep_seconds=3600)
    try:
        async with app.router.lifespan_context(app):
            yield app, shop
    finally:
        if own:
            await shop.close()


def client_at(app: object, address: str) -> httpx.AsyncClient:
    """A client whose requests come from `address` (as uvicorn reports it)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def _early_in_the_minute(room: float) -> None:
    """Wait, if need be, until `room` seconds are left in the minute the limits count in."""
    left = 60 - time.time() % 60
    if left < room:
        await asyncio.sleep(left + 0.05)


async def _chats(shop: Shop) -> int:
    async with shop.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(ChatIdentity)))


async def test_a_hundred_fresh_chats_from_one_address_are_not_all_answered(
        database_url, tmp_path, trained):
    settings = limited(database_url, tmp_path)  # the shipped defaults
    assert settings.webchat_new_chats_per_minute == 30
    async with app_for(settings, trained) as (app, shop), \
            client_at(app, "203.0.113.7") as office, client_at(app, "198.51.100.9") as other:
        ann = Shopper(office)
        await ann.say("hello")
        answers = [await office.post("/webchat/api/messages", json={"text": f"hi {n}"})
                   for n in range(100)]
        served = [a for a in answers if a.status_code == 200]
        refused = [a for a in answers if a.status_code != 200]
        # 30 a minute; a run that straddles two minutes may see up to twice that.
        assert 29 <= len(served) <= 59 and len(refused) >= 41
        assert {a.status_code for a in refused} == {429}
        refusal = refused[0]
        assert "Too many new chats have started from your network" in refusal.json()["error"]
        assert 1 <= int(refusal.headers["Retry-After"]) <= 60
        assert "session" not in refusal.json() and "set-cookie" not in refusal.headers
        assert await _chats(shop) == 1 + len(served), "a refused chat never reached the shop"
        await ann.say("show my cart")  # a chat already under way carries on
        assert "cart is empty" in ann.text
        elsewhere = await other.post("/webchat/api/messages", json={"text": "hello"})
        assert elsewhere.status_code == 200, "another address is not held back"


async def test_messages_from_one_address_are_limited_across_its_chats(
        database_url, tmp_path, trained):
    settings = limited(database_url, tmp_path, WEBCHAT_MESSAGES_PER_MINUTE="6")
    async with app_for(settings, trained) as (app, shop), client_at(app, "::1") as http:
        shoppers = [Shopper(http) for _ in range(3)]
        await _early_in_the_minute(5)
        statuses = []
        for shopper in shoppers * 3:
            answer = await http.post("/webchat/api/messages", json={
                **({"session": shopper.session} if shopper.session else {}),
                "text": "add 1 blue mug"})
            statuses.append(answer.status_code)
            if answer.status_code == 200:
                shopper.session = answer.json()["session"]
            else:
                assert "Too many messages are coming from your network" in \
                    answer.json()["error"]
        assert statuses == [200] * 6 + [429] * 3


async def test_addresses_are_counted_alone_and_ipv6_by_its_64(database_url, tmp_path, trained):
    settings = limited(database_url, tmp_path, WEBCHAT_NEW_CHATS_PER_MINUTE="2")
    async with app_for(settings, trained) as (app, _shop):
        async def start(address: str) -> int:
            async with client_at(app, address) as http:
                answer = await http.post("/webchat/api/messages", json={"text": "hello"})
                return answer.status_code

        home = ["2001:db8:1:2::1", "2001:db8:1:2::ffff", "2001:db8:1:2:abcd::9"]
        assert [await start(address) for address in home] == [200, 200, 429], \
            "one home's /64 is one client"
        assert await start("2001:db8:1:3::1") == 200, "the next /64 is another"
        assert [await start(a) for a in ("192.0.2.1", "::ffff:192.0.2.1", "192.0.2.1")] == [
            200, 200, 429], "an IPv4 address written as IPv6 is the same client"


@pytest.mark.redis
async def test_every_process_counts_an_address_together(
        database_url, tmp_path, trained, redis_server):
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_server.url)
    await redis.flushdb()
    await redis.aclose()
    settings = limited(database_url, tmp_path, WEBCHAT_NEW_CHATS_PER_MINUTE="4",
                       REDIS_URL=redis_server.url)
    async with app_for(settings, trained) as (one, shop), \
            app_for(settings, trained, shop) as (two, _), \
            client_at(one, "203.0.113.50") as first, client_at(two, "203.0.113.50") as second:
        await _early_in_the_minute(5)
        # Late in a full run the heap is large: a full collection stalling the loop past
        # Redis's 1 s timeout fails one count open (by design), seen once as a fifth 200.
        gc.collect()
        statuses = [(await (first if n % 2 else second).post(
            "/webchat/api/messages", json={"text": "hello"})).status_code for n in range(8)]
        assert statuses == [200] * 4 + [429] * 4, "four a minute between both processes"


async def test_open_polls_are_capped_per_address_and_in_all(database_url, tmp_path, trained):
    settings = limited(database_url, tmp_path, WEBCHAT_POLLS_PER_CLIENT="2",
                       WEBCHAT_POLLS_PER_PROCESS="3")
    async with app_for(settings, trained) as (app, shop), client_at(app, "203.0.113.1") as a, \
            client_at(app, "203.0.113.2") as b, client_at(app, "203.0.113.3") as c:
        ann, bob, cat = Shopper(a), Shopper(b), Shopper(c)
        for shopper in (ann, bob, cat):
            await shopper.say("hello")
        waiting = [asyncio.create_task(ann.news(wait=20)) for _ in range(2)]
        await asyncio.sleep(0.3)
        third = await a.get("/webchat/api/messages", params={"wait": 20},
                            headers={"X-Chat-Session": ann.session})
        assert third.status_code == 429 and 1 <= int(third.headers["Retry-After"]) <= 10
        assert "Too many chats are open from your network" in third.json()["error"]
        waiting.append(asyncio.create_task(bob.news(wait=20)))  # the process's third
        await asyncio.sleep(0.3)
        busy = await c.get("/webchat/api/messages", params={"wait": 0},
                           headers={"X-Chat-Session": cat.session})
        assert busy.status_code == 429 and "very busy" in busy.json()["error"]
        async with shop.transaction() as session:  # the refused poll took nothing
            await outbox.enqueue(session=session, chat_key=cat.chat_key, text="For Cat.")
        shop.closing.set()  # the open polls answer now
        try:
            assert [await asyncio.wait_for(task, 5) for task in waiting] == [[], [], []]
        finally:
            shop.closing.clear()
        assert [r["text"] for r in await cat.news(wait=0)] == ["For Cat."], \
            "slots are given back when polls end"
