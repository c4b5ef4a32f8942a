"""The relay latency of live support: from an agent's reply to the platform call that
carries it to the shopper, in one process (SQLite, the real ASGI app in-process, local
Telegram and Slack API doubles over HTTP). Goal: p99 under 100 ms.

Two ways in, each `REPLIES` times, one reply at a time (a person types; this is latency,
not throughput), to a Telegram shopper whose handoff lives in the Slack support thread:
- `slack`: a signed Events API message in the handoff's thread, POSTed to /slack/events,
  until the Bot API double receives the sendMessage with its words;
- `console`: what the console's reply box runs (core's `agent_reply`, origin console, in
  one transaction), until the same sendMessage; its copy into the Slack thread is sent
  as well, and not timed.
Sending runs without the platforms' pace (Telegram's 1 message a second per chat), which
measures our cost rather than their rule.
"""

from __future__ import annotations

import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bot import heap
from bot.channels.delivery import Limits
from bot.demo import fill
from bot.pipeline import Understander
from bot.server import create_app
from core.accounts.models import Role
from core.accounts.service import register
from core.audit.actor import Actor, Channel
from core.config import load_settings
from core.shop import Shop
from core.support import conversations
from core.support.models import Origin
from tests.e2e.platforms import TelegramUser, slack_signature
from tests.support.platforms import BOT_TOKEN, FakeSlack, FakeTelegram

REPLIES = 150
WARM_UP = 10
SUPPORT = "C0SUPPORT1"
SIGNING = "8f742231b10e8888abcd99aa12345678"
SECRET = "bench-webhook-secret-0123456789"
UNPACED = Limits(per_chat_rate=10_000, per_chat_burst=10_000, global_rate=100_000)
_events = itertools.count(1)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _arrived(api: FakeTelegram, words: str, started: float) -> float:
    call = await api.wait_for(lambda: next((c for c in reversed(api.calls)
                                            if words in c.text), None), seconds=10)
    return (call.at - started) * 1000


async def _slack_reply(client: httpx.AsyncClient, thread: str, text: str) -> None:
    ts = f"{time.time():.6f}"
    body = json.dumps({
        "token": "t", "team_id": "T0SHOP", "api_app_id": "A0SHOP", "type": "event_callback",
        "event_id": f"EvB{next(_events):08d}", "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0SHOP", "user_id": FakeSlack.BOT_USER, "is_bot": True}],
        "event": {"type": "message", "channel": SUPPORT, "user": "U0DESK", "text": text,
                  "ts": ts, "event_ts": ts, "thread_ts": thread, "channel_type": "channel"},
    }).encode()
    stamp = str(int(time.time()))
    response = await client.post("/slack/events", content=body, headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack_signature(SIGNING, body, stamp)})
    assert response.status_code == 200, response.text


async def measure(nlu: Understander) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        async with FakeTelegram() as telegram, FakeSlack() as slack:
            settings = load_settings(
                DATABASE_URL=f"sqlite+aiosqlite:///{folder}/bench.db",
                CHATCART_DATA_DIR=str(Path(folder) / "data"),
                CHATCART_SECRET_KEY="bench-secret-key-0123456789abcdef012345",
                TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_BASE=telegram.url,
                TELEGRAM_WEBHOOK_SECRET=SECRET, SLACK_BOT_TOKEN="xoxb-test-token",
                SLACK_SIGNING_SECRET=SIGNING, SLACK_API_BASE=slack.api,
                SLACK_SUPPORT_CHANNEL=SUPPORT, CHAT_FLOOD_LIMIT=0)
            shop = Shop.from_settings(settings)
            await fill(shop)
            async with shop.transaction() as session:
                staff = await register(session=session, email="desk@example.com",
                                       password="correct horse battery",
                                       actor=Actor.system(), role=Role.SUPPORT)
                staff_id = staff.id
            slack.people["U0DESK"] = {"email": "desk@example.com"}
            app = create_app(settings, shop, nlu=nlu, sweep_seconds=3600, limits=UNPACED)
            timings: dict[str, list[float]] = {"slack": [], "console": []}
            async with app.router.lifespan_context(app):
                heap.settle()
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                    async def settled() -> None:
                        await app.state.telegram.sender.drain(10)
                    tom = TelegramUser(client, telegram, SECRET, settled, user_id=4242)
                    await tom.say("I want to talk to a person")
                    thread = await slack.wait_for(lambda: next(
                        (ts for (channel, ts), m in slack.messages.items()
                         if channel == SUPPORT and "thread_ts" not in m), None))
                    async with shop.transaction() as session:
                        handoff = await conversations.handoff_for_mirror(
                            session=session, mirror_key=f"slack:{SUPPORT}:{thread}")
                        assert handoff is not None
                        handoff_id = handoff.id
                    actor = Actor(Channel.ADMIN, user_id=staff_id)
                    for n in range(WARM_UP + REPLIES):
                        for way in ("slack", "console"):
                            words = f"{way} answer number {n}"
                            started = time.monotonic()
                            if way == "slack":
                                await _slack_reply(client, thread, words)
                            else:
                                async with shop.transaction() as session:
                                    await conversations.agent_reply(
                                        session=session, handoff_id=handoff_id,
                                        staff_id=staff_id, text=words,
                                        origin=Origin.CONSOLE, actor=actor)
                            took = await _arrived(telegram, words, started)
                            if n >= WARM_UP:
                                timings[way].append(took)
                    await app.state.slack.sender.drain(10)
            await shop.close()
    figures: dict[str, float] = {}
    for way, values in timings.items():
        figures[f"support_relay_{way}_p50_ms"] = statistics.median(values)
        figures[f"support_relay_{way}_p99_ms"] = _percentile(values, 0.99)
    figures["support_relay_replies"] = float(REPLIES)
    return figures


def table(figures: dict[str, float]) -> str:
    return (f"Live support relay latency (SQLite, 1 process, agent's reply to the Bot API "
            f"call, {figures['support_relay_replies']:.0f} replies each): from a Slack thread "
            f"p50 {figures['support_relay_slack_p50_ms']:.1f} ms, p99 "
            f"{figures['support_relay_slack_p99_ms']:.1f} ms; from the console p50 "
            f"{figures['support_relay_console_p50_ms']:.1f} ms, p99 "
            f"{figures['support_relay_console_p99_ms']:.1f} ms (goal: p99 under 100 ms)")

