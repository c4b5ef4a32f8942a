"""A chat sending faster than anyone types is told once to slow down; the rest of the
burst costs nothing; every process counts the same with Redis."""

import asyncio
import time

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.pipeline import SLOW_DOWN
from bot.server import create_app
from bot.sessions.flood import WINDOW, FloodGuard, Verdict
from core.accounts.models import ChatIdentity
from tests.conftest import make_settings


async def _early_in_a_window(window: float, room: float) -> None:
    """Wait, if need be, until at least `room` seconds are left in the counting window."""
    left = window - time.time() % window
    if left < room:
        await asyncio.sleep(left + 0.01)


async def test_a_burst_from_one_chat_is_answered_up_to_the_limit_then_slowed(
        database_url, tmp_path, shop, trained):
    settings = make_settings(database_url, tmp_path / "data", CHAT_FLOOD_LIMIT="5")
    app = create_app(settings, nlu=trained, sweep_seconds=3600)  # its own shop, limit 5
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        async def say(chat: dict[str, str], text: str) -> list[str]:
            answer = await client.post("/webchat/api/messages", json={**chat, "text": text})
            assert answer.status_code == 200
            chat["session"] = answer.json()["session"]
            return [reply["text"] for reply in answer.json()["replies"]]

        flooding: dict[str, str] = {}
        await _early_in_a_window(WINDOW, 3)  # the burst must not straddle two windows
        burst = [await say(flooding, f"hello {n}") for n in range(8)]
        assert all(texts and SLOW_DOWN not in texts for texts in burst[:5])
        assert burst[5] == [SLOW_DOWN] and burst[6:] == [[], []]
        assert await say({}, "hello") != [SLOW_DOWN], "other chats carry on"
    async with shop.transaction() as session:
        seen = await session.scalar(select(func.count()).select_from(ChatIdentity))
        assert seen == 2, "the dropped messages never reached the database"


async def test_the_count_starts_again_with_the_next_window():
    guard = FloodGuard(limit=2, window=1)
    await _early_in_a_window(1, 0.5)
    verdicts = [await guard.check("web:a") for _ in range(4)]
    assert verdicts == [Verdict.PASS, Verdict.PASS, Verdict.WARN, Verdict.DROP]
    await asyncio.sleep(1.1)
    assert await guard.check("web:a") is Verdict.PASS


@pytest.mark.redis
async def test_every_process_counts_the_same_chat_together(redis_server):
    one, two = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    try:
        here, there = FloodGuard(one, limit=3), FloodGuard(two, limit=3)
        await _early_in_a_window(WINDOW, 1)
        verdicts = [await (here if n % 2 else there).check("telegram:5") for n in range(5)]
        assert verdicts == [Verdict.PASS] * 3 + [Verdict.WARN, Verdict.DROP]
        nobody = Redis.from_url("redis://127.0.0.1:1/0")
        assert await FloodGuard(nobody, limit=0).check("web:x") is Verdict.PASS  # fails open
        await nobody.aclose()
    finally:
        await one.aclose()
        await two.aclose()
