"""Telegram's set-up faces: long polling, `chatcart telegram set-webhook`, the command menu,
credentials checked at start, and which channels the server says are on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import httpx
import pytest

from bot.server import create_app
from core.shop import Shop
from tests.e2e.conftest import FAST, TELEGRAM_SECRET, channel_settings
from tests.e2e.platforms import TelegramUser
from tests.support.platforms import BOT_TOKEN, FakeSlack, FakeTelegram


async def test_long_polling_fetches_updates_and_answers_them(
        database_url, tmp_path: Path, trained, telegram_api: FakeTelegram,
        slack_api: FakeSlack):
    settings = channel_settings(database_url, tmp_path / "data", telegram_api, slack_api)
    shop = Shop.from_settings(settings)
    app = create_app(settings, shop, nlu=trained, sweep_seconds=3600, telegram_polling=True,
                     limits=FAST)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
                ann = TelegramUser(http, telegram_api, TELEGRAM_SECRET,
                                   app.state.telegram.sender.drain)
                await telegram_api.updates.put(ann.message_update("/start"))
                sent = await ann.replies()
                assert "Welcome" in sent[0].text
        methods = [c.method for c in telegram_api.calls]
        assert "deleteWebhook" in methods and "getUpdates" in methods
        assert methods.index("deleteWebhook") < methods.index("getUpdates")
        commands = telegram_api.of("setMyCommands")[0].params["commands"]
        assert {"start", "help", "cart", "orders", "support"} <= {c["command"] for c in commands}
    finally:
        await shop.close()


async def _chatcart(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def test_set_webhook_registers_the_public_url_secret_and_commands(
        tmp_path: Path, telegram_api: FakeTelegram):
    env = {"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_API_BASE": telegram_api.url,
           "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET, "PUBLIC_BASE_URL": "https://shop.example",
           "CHATCART_DATA_DIR": str(tmp_path / "data")}
    code, output = await _chatcart("telegram", "set-webhook", env=env)
    assert code == 0, output
    assert "https://shop.example/telegram/webhook" in output
    (call,) = telegram_api.of("setWebhook")
    assert call.params["url"] == "https://shop.example/telegram/webhook"
    assert call.params["secret_token"] == TELEGRAM_SECRET
    assert call.params["allowed_updates"] == ["message", "callback_query"]
    assert telegram_api.of("setMyCommands")

    code, output = await _chatcart("telegram", "set-webhook",
                                   env={**env, "PUBLIC_BASE_URL": "http://127.0.0.1:8000"})
    assert code == 2 and "https" in output and "--telegram-polling" in output


async def test_set_webhook_says_when_telegram_refuses(tmp_path: Path, telegram_api: FakeTelegram):
    env = {"TELEGRAM_BOT_TOKEN": "123456:" + "x" * 35, "TELEGRAM_API_BASE": telegram_api.url,
           "PUBLIC_BASE_URL": "https://shop.example", "CHATCART_DATA_DIR": str(tmp_path)}
    code, output = await _chatcart("telegram", "set-webhook", env=env)
    assert code == 1 and "Telegram refused: Unauthorized" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("TELEGRAM_BOT_TOKEN", "12345", "TELEGRAM_BOT_TOKEN: does not look like a bot token"),
    ("SLACK_BOT_TOKEN", "xoxp-123", "SLACK_BOT_TOKEN: must be the Bot User OAuth Token"),
    ("TELEGRAM_WEBHOOK_SECRET", "short", "TELEGRAM_WEBHOOK_SECRET: must be 16-256"),
])
async def test_serve_refuses_badly_shaped_credentials(tmp_path: Path, variable, value, message):
    env = {variable: value, "CHATCART_DATA_DIR": str(tmp_path)}
    if variable == "SLACK_BOT_TOKEN":
        env["SLACK_SIGNING_SECRET"] = "8f742231b10e8888abcd99aa12345678"
    code, output = await _chatcart("serve", env=env)
    assert code == 2 and message in output and "Traceback" not in output


async def test_slack_needs_its_signing_secret(tmp_path: Path):
    code, output = await _chatcart("serve", env={"SLACK_BOT_TOKEN": "xoxb-1-2-abc",
                                                 "CHATCART_DATA_DIR": str(tmp_path)})
    assert code == 2 and "SLACK_SIGNING_SECRET: Slack needs both" in output


async def test_start_up_says_which_channels_are_on(platforms, caplog):
    caplog.set_level(logging.INFO, logger="chatcart")
    app = create_app(platforms.app.state.shop.settings, platforms.shop,
                     nlu=platforms.app.state.pipeline.nlu, sweep_seconds=3600, limits=FAST)
    async with app.router.lifespan_context(app):
        pass
    line = next(r for r in caplog.records if r.getMessage() == "server.channels")
    assert line.fields["on"] == "web, telegram (webhook), slack (events)"  # type: ignore[attr-defined]


async def test_without_credentials_the_platform_endpoints_say_so(shop, settings, trained):
    app = create_app(settings, shop, nlu=trained, sweep_seconds=3600)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://test") as http:
            telegram = await http.post("/telegram/webhook", json={"update_id": 1})
            slack = await http.post("/slack/events", json={"type": "url_verification"})
    assert telegram.status_code == 404 and "not configured" in telegram.text
    assert slack.status_code == 404 and "not configured" in slack.text


async def test_an_update_in_flight_at_shutdown_still_gets_its_reply(
        database_url, tmp_path: Path, trained, telegram_api: FakeTelegram,
        slack_api: FakeSlack, monkeypatch):
    settings = channel_settings(database_url, tmp_path / "data", telegram_api, slack_api)
    shop = Shop.from_settings(settings)
    app = create_app(settings, shop, nlu=trained, sweep_seconds=3600, telegram_polling=True,
                     limits=FAST)
    try:
        async with app.router.lifespan_context(app):
            pipeline = app.state.telegram.pipeline
            real = pipeline.handle

            async def slow_turn(incoming):
                await asyncio.sleep(0.5)
                return await real(incoming)

            monkeypatch.setattr(pipeline, "handle", slow_turn)
            ann = TelegramUser(None, telegram_api, TELEGRAM_SECRET,  # type: ignore[arg-type]
                               app.state.telegram.sender.drain)
            await telegram_api.updates.put(ann.message_update("/start"))
            await telegram_api.wait_for(lambda: telegram_api.updates.empty())
            await asyncio.sleep(0.05)  # fetched and under way: now the server stops
        assert any("Welcome" in c.text for c in ann.mine())
    finally:
        await shop.close()
