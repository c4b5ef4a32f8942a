import asyncio
import contextlib
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from bot.sessions.ordering import ChatLocks
from bot.sessions.state import ChatState
from bot.sessions.store import DatabaseSessionStore, RedisSessionStore
from bot.wakeups import CHANNEL, Wakeups
from core.audit.news import News, Newsroom
from core.chats import service as chats
from core.shop import Committed


async def test_chat_state_survives_a_restart_in_the_database(shop):
    store = DatabaseSessionStore()
    async with shop.transaction() as session:
        state = await store.load(session, "web:abc")
        assert state == ChatState()
        state.shown, state.focus = [4, 8, 15], 8
        state.start("search", "refine")
        await store.save(session, "web:abc", state)
    shop_after_restart = type(shop).from_settings(shop.settings)
    try:
        async with shop_after_restart.transaction() as session:
            again = await store.load(session, "web:abc")
    finally:
        await shop_after_restart.close()
    assert (again.shown, again.focus, again.flow, again.step) == ([4, 8, 15], 8, "search",
                                                                  "refine")


async def test_an_idle_chat_starts_afresh_and_is_purged(shop):
    store = DatabaseSessionStore(idle=timedelta(seconds=-1))
    async with shop.transaction() as session:
        await store.save(session, "web:old", ChatState(shown=[1]))
    async with shop.transaction() as session:
        assert (await store.load(session, "web:old")) == ChatState()
        assert await chats.purge_idle(session=session) == 1


def test_state_from_an_older_shape_loads_with_defaults():
    state = ChatState.from_dict({"shown": [1, 2], "removed_field": True})
    assert state.shown == [1, 2] and state.flow is None


@pytest.mark.redis
async def test_chat_state_in_redis_expires_when_idle(redis_server):
    client = Redis.from_url(redis_server.url)
    try:
        store = RedisSessionStore(client, idle=timedelta(seconds=60))
        await store.save(None, "telegram:1", ChatState(shown=[3], focus=3))  # type: ignore[arg-type]
        loaded = await store.load(None, "telegram:1")  # type: ignore[arg-type]
        assert (loaded.shown, loaded.focus) == ([3], 3)
        assert 0 < await client.ttl("chatcart:chat:telegram:1") <= 60
    finally:
        await client.flushdb()
        await client.aclose()


async def test_one_chat_is_served_in_order_while_others_run_alongside():
    locks, log = ChatLocks(), []

    async def turn(key: str, n: int, pause: float) -> None:
        async with locks.hold(key):
            log.append(f"{key}{n}+")
            await asyncio.sleep(pause)
            log.append(f"{key}{n}-")

    await asyncio.gather(turn("a", 1, 0.05), turn("a", 2, 0.0), turn("b", 1, 0.01))
    assert log.index("a1-") < log.index("a2+")          # a's turns never overlap
    assert log.index("b1+") < log.index("a1-")          # b did not wait for a
    assert len(locks) == 0                              # nothing kept once idle


@pytest.mark.redis
async def test_a_chats_turns_take_turns_across_processes_through_redis(redis_server):
    """Two processes' locks (two ChatLocks, two clients) on one Redis: the same chat's turns
    never overlap, another chat's run alongside, and a Redis that is gone lets turns go on."""
    first, second = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    here, there, log = ChatLocks(first), ChatLocks(second), []

    async def turn(locks: ChatLocks, key: str, name: str, pause: float) -> None:
        async with locks.hold(key):
            log.append(f"{name}+")
            await asyncio.sleep(pause)
            log.append(f"{name}-")

    try:
        await asyncio.gather(turn(here, "telegram:1", "a1", 0.2),
                             turn(there, "telegram:1", "a2", 0.0),
                             turn(there, "telegram:2", "b1", 0.05))
        assert log.index("a1-") < log.index("a2+") or log.index("a2-") < log.index("a1+")
        assert log.index("b1-") < max(log.index("a1-"), log.index("a2-"))
        assert await first.keys("chatcart:turn:*") == []  # released, not left to expire
        nobody = Redis.from_url("redis://127.0.0.1:1/0")  # nothing listens there
        async with ChatLocks(nobody).hold("web:x"):
            log.append("went ahead")
        assert log[-1] == "went ahead"
        await nobody.aclose()
    finally:
        await first.aclose()
        await second.aclose()


@pytest.mark.redis
async def test_what_a_commit_did_reaches_other_processes(redis_server):
    """Chats given messages wake the other processes' deliverers; news for staff reaches
    their consoles, each item once however often it is heard."""
    heard: list[set[str]] = []
    newsroom = Newsroom()
    sender = Wakeups(Redis.from_url(redis_server.url), [])
    # The process's client: reads give up after a second (bot/bootstrap.py).
    listener = Wakeups(Redis.from_url(redis_server.url, socket_timeout=1.0), [heard.append],
                       newsroom)
    paid = News(41, "order.status_changed", "order", "7", {"number": "CC-7", "to": "paid"},
                "2026-11-29T18:00:00+00:00")
    listening = asyncio.create_task(listener.listen())
    try:
        with newsroom.listening() as console:
            for _ in range(50):  # until the subscription is in place
                sender.committed(Committed(frozenset({"web:abc12345", "telegram:7"}),
                                           (paid,)))
                await asyncio.sleep(0.05)
                if heard:
                    break
            assert heard and heard[0] == {"web:abc12345", "telegram:7"}
            assert await asyncio.wait_for(console.get(), 1) == paid
            await asyncio.sleep(0.1)
            assert console.empty(), "an item heard again is not told twice"
            for junk in ('["web:x"]', '"x"', "{", '{"chats": 5, "news": [{"id": 1}]}'):
                await sender.redis.publish(CHANNEL, junk)  # a stranger on the channel
            await asyncio.sleep(1.5)  # a quiet spell longer than the socket timeout
            later = News(42, "stock.low", "product", "3", {"available": 1}, paid.at)
            sender.committed(Committed(frozenset(), (later,)))
            assert await asyncio.wait_for(console.get(), 0.5) == later, "still listening"
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
        await sender.redis.aclose()
        await listener.redis.aclose()
