"""The console served with three people: an admin, a support agent and a customer, in the
whole app (the web chat too, for journeys that start with a shopper)."""

from __future__ import annotations

import httpx
import pytest

from bot.server import create_app
from core.accounts.models import Role
from tests import factories

PASSWORD = "correct horse battery"


@pytest.fixture
async def client(shop, settings, trained):
    async with shop.transaction() as session:
        await factories.user(session, "help@example.com", password=PASSWORD, role=Role.SUPPORT)
        await factories.user(session, "boss@example.com", password=PASSWORD, role=Role.ADMIN)
        await factories.user(session, "ann@example.com", password=PASSWORD)
    app = create_app(settings, shop, nlu=trained, sweep_seconds=3600)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://test") as http:
            http.shop = shop  # type: ignore[attr-defined]
            http.console = next(route.app for route in app.routes  # type: ignore[attr-defined]
                                if getattr(route, "path", "") == "/admin").state.console
            yield http
