"""News for staff: told once its transaction commits, never for a rollback (a whole one or
a savepoint's), each item once per listener, and caught up by id after a lost connection."""

import asyncio

import pytest

from core.accounts import identities
from core.audit import news
from core.audit.news import Newsroom
from core.support import service as support
from tests.factories import ADMIN


async def _ask(session, who: str):
    chat = await identities.identify(session=session, platform="telegram",
                                     platform_user_id=who, display_name=who)
    request, _ = await support.request_handoff(session=session, identity_id=chat.id,
                                               chat_key=f"telegram:{who}", reason="help",
                                               actor=ADMIN)
    return request


def _drain(queue: asyncio.Queue) -> list[news.News]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def test_news_is_told_after_the_commit_and_never_for_a_rollback(shop):
    told_during: list[int] = []
    with shop.newsroom.listening() as console:
        async with shop.transaction() as session:
            request = await _ask(session, "ann")
            await session.flush()
            told_during.append(console.qsize())
        (item,) = _drain(console)
        assert told_during == [0], "nobody hears of it before it is stored"
        assert (item.action, item.subject_type, item.subject_id) == (
            "support.handoff_requested", "handoff", str(request.id))

        with pytest.raises(RuntimeError):
            async with shop.transaction() as session:
                await _ask(session, "bob")
                raise RuntimeError("the turn failed")
        async with shop.transaction() as session:
            async with session.begin_nested() as inner:
                await _ask(session, "cy")
                await session.flush()
                await inner.rollback()
        assert _drain(console) == [], "undone work is no news"


async def test_a_reconnecting_console_is_caught_up_from_the_log(shop):
    async with shop.transaction() as session:
        start = await news.latest_id(session=session)
        first = await _ask(session, "dee")
        await _ask(session, "eve")
    async with shop.transaction() as session:
        missed = await news.since(session=session, after_id=start)
        assert [item.action for item in missed] == ["support.handoff_requested"] * 2
        assert missed[0].subject_id == str(first.id)
        later = await news.since(session=session, after_id=missed[0].id)
        assert [item.id for item in later] == [missed[1].id]
        assert await news.latest_id(session=session) >= missed[1].id


async def test_each_listener_hears_an_item_once_and_a_slow_one_holds_nobody_up():
    newsroom = Newsroom(backlog=2)
    item = news.News(1, "stock.low", "product", "3", {"available": 1}, "2026-11-29T00:00:00")
    with newsroom.listening() as fast, newsroom.listening() as slow:
        newsroom.tell([item, item])  # heard here, then echoed back through Redis
        newsroom.tell([item])
        assert fast.qsize() == slow.qsize() == 1
        _drain(fast)
        newsroom.tell(news.News(n, "stock.low", "product", "3", {}, item.at)
                      for n in range(2, 6))
        assert fast.qsize() == slow.qsize() == 2, "the backlog is capped, not blocking"
        assert newsroom.listeners == 2
    assert newsroom.listeners == 0
    bad = [{"id": "x"}, None, {"id": 1, "data": "no"},
           {"id": "x", "action": "a", "subject_type": "b", "subject_id": "c", "data": {},
            "at": "t"}]
    for raw in bad:
        with pytest.raises((ValueError, KeyError, TypeError)):
            news.News.from_json(raw)
    assert news.News.from_json(item.to_json()) == item
