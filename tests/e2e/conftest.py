"""Fixtures for whole journeys: the trained NLU, and the app with Telegram and Slack on,
pointed at recording doubles of their APIs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bot.channels.delivery import Limits
from bot.nlu.embedded import EmbeddedNlu
from bot.server import create_app
from core.config import Settings
from core.shop import Shop
from tests.conftest import make_settings
from tests.e2e.platforms import SlackUser, TelegramUser
from tests.support.demo_copy import demo_filled
from tests.support.platforms import BOT_TOKEN, FakeSlack, FakeTelegram

TELEGRAM_SECRET = "tg-webhook-secret-0123456789"
SLACK_SIGNING_SECRET = "8f742231b10e8888abcd99aa12345678"
SLACK_TOKEN = "xoxb-test-token"
# Tests do not wait out real platform pacing, except the one that measures it.
FAST = Limits(per_chat_rate=1000, per_chat_burst=1000, global_rate=10000, backoff_cap=0.05)


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as api:
        yield api  # type: ignore[misc]


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as api:
        yield api  # type: ignore[misc]


def channel_settings(database_url: str, data_dir: Path, telegram: FakeTelegram,
                     slack: FakeSlack, **extra: object) -> Settings:
    return make_settings(
        database_url, data_dir, TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET, TELEGRAM_API_BASE=telegram.url,
        SLACK_BOT_TOKEN=SLACK_TOKEN, SLACK_SIGNING_SECRET=SLACK_SIGNING_SECRET,
        SLACK_API_BASE=slack.api, **extra)


@asynccontextmanager
async def served(settings: Settings, nlu: EmbeddedNlu) -> AsyncIterator[httpx.AsyncClient]:
    """The demo shop served with these settings; the client carries the shop as `.shop`."""
    shop = Shop.from_settings(settings)
    await demo_filled(shop)
    app = create_app(settings, shop, nlu=nlu, sweep_seconds=3600)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://test") as http:
                http.shop = shop  # type: ignore[attr-defined]
                http.app = app  # type: ignore[attr-defined]  # to wake its relay
                yield http
    finally:
        await shop.close()


@dataclass
class Platforms:
    app: FastAPI
    http: httpx.AsyncClient
    shop: Shop
    telegram: FakeTelegram
    slack: FakeSlack

    async def settle_telegram(self) -> None:
        assert await self.app.state.telegram.sender.drain(10)

    async def settle_slack(self) -> None:
        assert await self.app.state.slack.turns.idle(10)
        assert await self.app.state.slack.sender.drain(10)

    def telegram_user(self, user_id: int = 111222333, first_name: str = "Ann") -> TelegramUser:
        return TelegramUser(self.http, self.telegram, TELEGRAM_SECRET, self.settle_telegram,
                            user_id, first_name)

    def slack_user(self, user: str = "U0ANN") -> SlackUser:
        return SlackUser(self.http, self.slack, SLACK_SIGNING_SECRET, self.settle_slack, user)


@pytest.fixture
async def platforms(database_url: str, tmp_path: Path, trained: EmbeddedNlu,
                    telegram_api: FakeTelegram, slack_api: FakeSlack,
                    ) -> AsyncIterator[Platforms]:
    """The demo shop served with both channels on; Telegram and Slack are the doubles."""
    settings = channel_settings(database_url, tmp_path / "data", telegram_api, slack_api)
    shop = Shop.from_settings(settings)
    await demo_filled(shop)
    app = create_app(settings, shop, nlu=trained, sweep_seconds=3600, limits=FAST)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield Platforms(app, http, shop, telegram_api, slack_api)
    finally:
        await shop.close()
