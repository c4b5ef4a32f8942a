"""The demo shop with every channel and gateway switched on, each platform a local double:
what an outside probe of a live server sees. Used by the hostile-input tests and the
fuzz suite (in process), and by `make fuzz` (the same doubles behind `chatcart serve`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI

from bot.channels.delivery import Limits
from bot.nlu.embedded import EmbeddedNlu
from bot.server import create_app
from core.config import Settings
from core.shop import Shop
from tests.conftest import SECRET, make_settings
from tests.support.demo_copy import demo_filled
from tests.support.paypal_double import CLIENT_ID, CLIENT_SECRET, FakePayPal
from tests.support.platforms import BOT_TOKEN, FakeSlack, FakeTelegram
from tests.support.stripe_double import FakeStripe

TELEGRAM_SECRET = "tg-webhook-secret-0123456789"
SLACK_SIGNING_SECRET = "8f742231b10e8888abcd99aa12345678"
STRIPE_WEBHOOK_SECRET = "whsec_test_0123456789abcdef"
PAYPAL_WEBHOOK_ID = "WH-ID-1"
FAST = Limits(per_chat_rate=1000, per_chat_burst=1000, global_rate=10000, backoff_cap=0.05)


@dataclass
class Doubles:
    telegram: FakeTelegram
    slack: FakeSlack
    stripe: FakeStripe
    paypal: FakePayPal

    def environment(self, public_url: str) -> dict[str, str]:
        """The variables that switch everything on, pointed at these doubles."""
        return {"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
                "TELEGRAM_API_BASE": self.telegram.url, "SLACK_BOT_TOKEN": "xoxb-test-token",
                "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET, "SLACK_API_BASE": self.slack.api,
                "STRIPE_SECRET_KEY": "sk_test_chatcart",
                "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
                "STRIPE_API_BASE": self.stripe.url, "PAYPAL_CLIENT_ID": CLIENT_ID,
                "PAYPAL_CLIENT_SECRET": CLIENT_SECRET, "PAYPAL_API_BASE": self.paypal.url,
                "PAYPAL_WEBHOOK_ID": PAYPAL_WEBHOOK_ID, "PUBLIC_BASE_URL": public_url,
                "CHATCART_SECRET_KEY": SECRET}


@asynccontextmanager
async def doubles() -> AsyncIterator[Doubles]:
    async with AsyncExitStack() as stack:
        yield Doubles(await stack.enter_async_context(FakeTelegram()),  # type: ignore[arg-type]
                      await stack.enter_async_context(FakeSlack()),  # type: ignore[arg-type]
                      await stack.enter_async_context(FakeStripe()),  # type: ignore[arg-type]
                      await stack.enter_async_context(FakePayPal()))  # type: ignore[arg-type]


@dataclass
class Everything:
    app: FastAPI
    http: httpx.AsyncClient
    shop: Shop
    settings: Settings
    doubles: Doubles


@asynccontextmanager
async def everything_on(database_url: str, data_dir: Path, nlu: EmbeddedNlu,
                        public_url: str = "https://shop.example", **extra: object
                        ) -> AsyncIterator[Everything]:
    async with doubles() as platforms:
        settings = make_settings(database_url, data_dir,
                                 **{**platforms.environment(public_url), **extra})
        shop = Shop.from_settings(settings)
        await demo_filled(shop)
        app = create_app(settings, shop, nlu=nlu, sweep_seconds=3600, limits=FAST)
        try:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport,
                                             base_url="http://test") as http:
                    yield Everything(app, http, shop, settings, platforms)
        finally:
            await shop.close()
