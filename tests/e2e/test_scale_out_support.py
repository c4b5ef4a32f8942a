"""Live support in the scale-out shape (issue 17): two `chatcart serve --no-jobs`
processes, A and B, and one `chatcart worker` on PostgreSQL and Redis, with the Slack
support channel and Telegram pointed at their doubles.

Shoppers talk to A; agents act on B (a signed Slack event, the console); the handoff is
posted by the worker, the only process running jobs. Every hop between processes goes
through the database and Redis, never through memory shared in one process.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from bot.nlu.embedded import build_embedded
from core.accounts.models import Role
from core.shop import Shop
from core.support import conversations
from core.support.models import HandoffRequest, HandoffStatus
from tests import factories
from tests.admin_web.console import ConsoleUser, csrf
from tests.conftest import SECRET, UNLIMITED_CLIENT, make_settings, new_database_url
from tests.e2e.cluster import Processes, wait_healthy
from tests.e2e.conftest import SLACK_SIGNING_SECRET, SLACK_TOKEN, TELEGRAM_SECRET
from tests.e2e.platforms import SlackAgent, TelegramUser
from tests.e2e.webchat import Shopper
from tests.support.demo_copy import demo_filled
from tests.support.platforms import BOT_TOKEN, FakeSlack, FakeTelegram
from tests.support.servers import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
SUPPORT = "C0SUPPORT1"
STAFF, PASSWORD = "desk@example.com", "correct horse battery"


@pytest.fixture
def cluster(request: pytest.FixtureRequest, tmp_path: Path, redis_server: Any,
            telegram_api: FakeTelegram, slack_api: FakeSlack,
            ) -> Iterator[tuple[list[str], Shop, Processes]]:
    url = new_database_url(request, "postgresql", tmp_path)
    data = tmp_path / "data"
    settings = make_settings(url, data)
    build_embedded(data / "nlu-model.joblib")  # trained once here, loaded by each process

    async def prepare() -> None:
        shop = Shop.from_settings(settings)
        await demo_filled(shop)
        async with shop.transaction() as session:
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
               SLACK_BOT_TOKEN=SLACK_TOKEN, SLACK_SIGNING_SECRET=SLACK_SIGNING_SECRET,
               SLACK_API_BASE=slack_api.api, SLACK_SUPPORT_CHANNEL=SUPPORT,
               PUBLIC_BASE_URL=f"http://127.0.0.1:{ports[0]}", LOG_LEVEL="WARNING",
               CHAT_FLOOD_LIMIT="0", **UNLIMITED_CLIENT)
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


async def _settle() -> None:
    await asyncio.sleep(0.05)


async def _until(shopper: Shopper, words: str, seconds: int = 10) -> list[dict[str, Any]]:
    """The shopper's polls (on their own process) until `words` arrive."""
    seen: list[dict[str, Any]] = []
    for _ in range(seconds // 2):
        seen += await shopper.news(wait=2)
        if any(words in reply["text"] for reply in seen):
            return seen
    raise AssertionError(f"{words!r} never reached the shopper: {seen}")


async def _mirrored(shop: Shop, ts: str) -> HandoffRequest:
    """The handoff behind the post, once the worker has recorded the post as its mirror."""
    for _ in range(200):
        async with shop.transaction() as session:
            found = await conversations.handoff_for_mirror(
                session=session, mirror_key=f"slack:{SUPPORT}:{ts}")
        if found is not None:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("the post was never recorded as the handoff's mirror")


async def test_an_agent_on_one_process_holds_a_chat_the_other_process_serves(
        cluster: tuple[list[str], Shop, Processes], telegram_api: FakeTelegram,
        slack_api: FakeSlack) -> None:
    bases, shop, processes = cluster
    a = httpx.AsyncClient(base_url=bases[0], timeout=30)
    b = httpx.AsyncClient(base_url=bases[1], timeout=30)
    try:
        console = ConsoleUser(b, STAFF, PASSWORD)
        await console.sign_in()  # staff are online: the shopper is told someone will come
        ann = SlackAgent(b, slack_api, SLACK_SIGNING_SECRET, SUPPORT, _settle, email=STAFF)

        # A web chat shopper on A asks; the worker posts the handoff to the channel.
        shopper = Shopper(a)
        await shopper.say("add a blue mug")
        await shopper.say("I want to talk to a person")
        ts = await ann.post()
        assert "the web chat" in ann.post_text(ts) and "Blue mug" in ann.post_text(ts)
        request = await _mirrored(shop, ts)

        # The agent's reply arrives at B as a signed Slack event; A's poll receives it.
        assert (await ann.reply(ts, "Hello, Desk here. How can I help?")).status_code == 200
        await _until(shopper, "Desk here. How can I help?")

        # The shopper's next message on A: no bot answer, and it appears in the thread.
        answer = await shopper.say("show me mugs")
        assert not any("mug" in reply["text"].lower() for reply in answer), answer
        await slack_api.wait_for(lambda: any("show me mugs" in said
                                             for said in ann.thread(ts)), seconds=15)

        # Resolve pressed on B hands the chat back; the bot answers A's next message.
        assert (await ann.press(ts, "Resolve")).status_code == 200
        await _until(shopper, "back with")
        async with shop.transaction() as session:
            done = await session.get(HandoffRequest, request.id)
            assert done is not None and done.status is HandoffStatus.CLOSED
        answer = await shopper.say("show me mugs")
        assert any("Blue mug" in reply["text"] for reply in answer), "the bot answers again"

        # A Telegram shopper whose updates go to A, answered from the console on B.
        tom = TelegramUser(a, telegram_api, TELEGRAM_SECRET, _settle, user_id=700_001,
                           first_name="Tom")
        await tom.say("I need a human")
        ts = await ann.post(2)
        number = (await _mirrored(shop, ts)).id
        page = await b.get(f"/admin/handoffs/{number}")
        assert page.status_code == 200 and "I need a human" in page.text
        sent = await b.post(f"/admin/handoffs/{number}/reply", data={
            "csrf": csrf(page.text), "text": "Hi Tom, your parcel left today."})
        assert sent.status_code in (200, 303), sent.text
        await telegram_api.wait_for(lambda: any("your parcel left today" in call.text
                                                for call in tom.mine()), seconds=15)
        await slack_api.wait_for(lambda: any("your parcel left today" in said
                                             for said in ann.thread(ts)), seconds=15)
        assert sum("your parcel left today" in call.text for call in tom.mine()) == 1

        for name, _, _ in processes.running:
            log = (processes.folder / f"{name}.log").read_text()
            assert "Traceback" not in log, f"{name}:\n{log[-3000:]}"
    finally:
        await a.aclose()
        await b.aclose()
