"""Live news on open console pages: a shopper asking for a person and stock running low
reach a signed-in member of staff's stream with the nav's counts; a reconnection catches
up on what it missed; strangers and signed-out sessions get nothing; streams open at once
are capped."""

from __future__ import annotations

import asyncio
import json
import re

import httpx

from admin_web import live
from bot.server import create_app
from core.accounts.models import Role
from core.audit import news
from core.inventory import service as inventory
from tests import factories
from tests.admin_web.conftest import PASSWORD
from tests.admin_web.console import ConsoleUser, csrf
from tests.conftest import make_settings
from tests.e2e.webchat import Shopper
from tests.factories import ADMIN


def events(body: str) -> list[dict]:
    """The `news` events of an SSE body, each with its id."""
    found = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines()
                      if ": " in line and not line.startswith(":"))
        if fields.get("event") == "news":
            found.append({"id": int(fields["id"]), **json.loads(fields["data"])})
    return found


async def _page_stream(client) -> str:
    """The stream address a page just drawn listens on (with the last news it shows)."""
    page = await client.get("/admin/")
    found = re.search(r'data-live="([^"]+)"', page.text)
    assert found, "a signed-in page has a live stream"
    return found.group(1)


async def _listen(client, url: str, **headers: str) -> asyncio.Task:
    task = asyncio.create_task(client.get(url, headers=headers))
    await asyncio.sleep(0.3)  # the stream is listening
    return task


async def _until_closing(client, listening: asyncio.Task):
    """End the open streams the way a shutdown does, and the stream's whole answer."""
    client.shop.closing.set()
    try:
        return await asyncio.wait_for(listening, 10)
    finally:
        client.shop.closing.clear()


async def test_staff_hear_a_request_for_a_person_and_the_badge_follows(client):
    client.console.live_seconds = 60
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.password_step()
    url = await _page_stream(client)
    assert 'data-count="handoffs" title="shoppers waiting for a person" hidden' in (
        await client.get("/admin/handoffs")).text
    listening = await _listen(client, url)
    await Shopper(client).say("I want a human")
    stream = await _until_closing(client, listening)
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert "retry: 3000" in stream.text
    (heard,) = events(stream.text)
    assert heard["text"] == "A shopper is asking to talk to a person."
    assert heard["link"] == "/admin/handoffs" and heard["alert"] is True
    assert heard["counts"]["handoffs"] == 1
    page = (await client.get("/admin/handoffs")).text
    assert 'data-count="handoffs" title="shoppers waiting for a person">1</span>' in page
    assert 'data-watch="handoff"' in page

    # Taking it is news too (the counts drop), though nothing is shown for it.
    listening = await _listen(client, url.split("?")[0], **{"Last-Event-ID": str(heard["id"])})
    take = re.search(r'action="/admin(/handoffs/\d+)/take"', page)
    assert take
    await client.post(f"/admin{take.group(1)}/take", data={"csrf": csrf(page)})
    (taken,) = events((await _until_closing(client, listening)).text)
    assert taken["alert"] is False and taken["counts"]["handoffs"] == 0
    assert taken["id"] > heard["id"]


async def test_a_late_commit_with_a_lower_id_is_still_told_once(client):
    """On PostgreSQL an id is taken before the commit: news can arrive with an id below
    one already sent. The stream reads the recent past again, and skips what it sent."""
    async with client.shop.transaction() as session:
        start = await news.latest_id(session=session)
        first = await factories.product(session, name="Jug", stock=5, threshold=2)
        second = await factories.product(session, name="Bowl", stock=5, threshold=2)
        for product in (first, second):
            await inventory.adjust(session=session, product_id=product.id, delta=-4,
                                   reason="count", actor=ADMIN)
    async with client.shop.transaction() as session:
        told = await news.since(session=session, after_id=start)
        assert [item.action for item in told] == ["stock.adjusted", "stock.low"] * 2
        reader = live.Reader(start)  # it read and sent the bowl's news; the jug's
        reader.after = told[-1].id     # had not committed yet, though its ids are lower
        reader.told.update((item.id, None) for item in told[2:])
        assert [item.id for item in await reader.fresh(session)] == [
            item.id for item in told[:2]]
        assert await reader.fresh(session) == [], "told once"
        assert await live.Reader(told[-1].id).fresh(session) == [], \
            "a new stream starts after what its page shows"


async def test_a_reconnection_catches_up_and_low_stock_names_the_product(client):
    client.console.live_seconds = 0.5
    boss = ConsoleUser(client, "boss@example.com", PASSWORD)
    await boss.password_step()
    await boss.enrol()
    url = await _page_stream(client)
    async with client.shop.transaction() as session:
        mug = await factories.product(session, name="Tall <b>mug</b>", stock=5, threshold=2)
        await inventory.adjust(session=session, product_id=mug.id, delta=-4,
                               reason="breakage", actor=ADMIN)
    # The page was drawn before the stock fell: its stream starts with what it missed.
    (low,) = [item for item in events((await client.get(url)).text) if item["alert"]]
    assert low["text"] == "Tall <b>mug</b> is running low: 1 left."
    assert low["link"] == f"/admin/inventory?q={mug.sku}"
    assert low["counts"]["low_stock"] == 1
    again = await client.get(url, headers={"Last-Event-ID": str(low["id"])})
    assert events(again.text) == [], "the browser's last item wins over the page's"
    nonsense = await client.get(url.split("?")[0] + "?after=abc",
                                headers={"Last-Event-ID": "x"})
    assert nonsense.status_code == 200 and events(nonsense.text) == []


async def test_strangers_get_no_stream_and_signing_out_ends_one(client, monkeypatch):
    assert (await client.get("/admin/live")).status_code == 401
    client.console.live_seconds = 30
    monkeypatch.setattr(live, "CHECK_SECONDS", 0.3)
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.password_step()
    url = await _page_stream(client)
    listening = await _listen(client, url)
    page = await client.get("/admin/")
    signed_out = await client.post("/admin/logout-everywhere", data={"csrf": csrf(page.text)})
    assert signed_out.status_code == 303
    stream = await asyncio.wait_for(listening, 5)
    assert stream.status_code == 200 and events(stream.text) == []
    assert client.shop.newsroom.listeners == 0
    assert (await client.get(url)).status_code == 401


async def test_open_streams_are_capped_per_member_of_staff_and_in_all(shop, database_url,
                                                                       tmp_path, trained):
    settings = make_settings(database_url, tmp_path / "data", CONSOLE_STREAMS_PER_STAFF="2",
                             CONSOLE_STREAMS_PER_PROCESS="3")
    async with shop.transaction() as session:
        for email in ("help@example.com", "boss@example.com"):
            await factories.user(session, email, password=PASSWORD, role=Role.ADMIN)
    app = create_app(settings, shop, nlu=trained, sweep_seconds=3600)
    console = next(route.app for route in app.routes if getattr(route, "path", "") == "/admin")
    console.state.console.live_seconds = 60
    async with app.router.lifespan_context(app), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                              base_url="http://test") as one, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                              base_url="http://test") as two:
        for client, email in ((one, "help@example.com"), (two, "boss@example.com")):
            person = ConsoleUser(client, email, PASSWORD)
            await person.password_step()
            await person.enrol()
        url = await _page_stream(one)
        open_streams = [await _listen(one, url), await _listen(one, url)]
        third = await one.get(url)
        assert third.status_code == 429 and int(third.headers["Retry-After"]) > 0
        assert "too many console pages showing live news" in third.text
        open_streams.append(await _listen(two, url))  # the process's third
        crowded = await two.get(url)
        assert crowded.status_code == 429 and "Too many console pages" in crowded.text
        shop.closing.set()
        try:
            ended = [await asyncio.wait_for(task, 10) for task in open_streams]
        finally:
            shop.closing.clear()
        assert [stream.status_code for stream in ended] == [200, 200, 200]
        console.state.console.live_seconds = 0.3
        again = await one.get(url)
        assert again.status_code == 200, "an ended stream gives its place back"
        assert console.state.streams.open == 0
