"""The one ASGI app `chatcart serve` runs; channels and the console mount here as they land."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from bot.health import health
from bot.sweeper import run_forever as sweeper_loop
from core.config import Settings
from core.shop import Shop


def create_app(settings: Settings, shop: Shop | None = None,
               sweep_seconds: float = 30.0) -> FastAPI:
    """Compose the app; a given `shop` is used as is (and not closed), else one is built."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = shop is None
        app.state.shop = shop or Shop.from_settings(settings)
        sweeper = asyncio.create_task(sweeper_loop(app.state.shop, sweep_seconds))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            if owned:
                await app.state.shop.close()

    app = FastAPI(title="Chatcart", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)

    @app.get("/healthz")
    async def healthz(request: Request) -> JSONResponse:
        ok, body = await health(request.app.state.shop)
        return JSONResponse(body, status_code=200 if ok else 503)

    settings.media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=settings.media_dir), name="media")
    return app
