"""GET /healthz through the ASGI app, with and without Redis."""

import httpx
import pytest

from bot.server import create_app
from core.shop import Shop
from tests.conftest import make_settings


async def get_health(settings) -> httpx.Response:
    shop = Shop.from_settings(settings)
    app = create_app(settings, shop)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.get("/healthz")
    finally:
        await shop.close()


async def test_health_reports_the_database_and_its_schema(settings):
    response = await get_health(settings)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["revision"] == body["database"]["head"]
    assert body["database"]["products"] == 0


async def test_an_unmigrated_database_is_reported_as_not_ready(tmp_path):
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", tmp_path / "d")
    response = await get_health(settings)
    assert response.status_code == 503
    assert response.json()["database"]["revision"] is None


@pytest.mark.redis
async def test_health_reports_a_live_redis(settings, redis_server, tmp_path):
    with_redis = make_settings(settings.database_url, tmp_path / "d2",
                               REDIS_URL=redis_server.url)
    response = await get_health(with_redis)
    assert response.status_code == 200
    assert response.json()["redis"] == {"configured": True, "ok": True}


async def test_an_unreachable_redis_makes_health_degraded(settings, tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = make_settings(settings.database_url, tmp_path / "d3",
                         REDIS_URL=f"redis://127.0.0.1:{port}/0")
    response = await get_health(down)
    assert response.status_code == 503
    assert response.json()["redis"]["ok"] is False
