"""The one ASGI app `chatcart serve` runs; channels and the console mount here as they land."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from bot import bootstrap
from bot.channels.webchat import Outbox, webchat_router
from bot.health import health
from bot.pipeline import Understander
from bot.sweeper import run_forever as sweeper_loop
from core.config import Settings
from core.shop import Shop


async def _keep_catalog_current(nlu: Understander, shop: Shop, seconds: float) -> None:
    """New and renamed products become recognisable in chat within `seconds`."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await nlu.refresh_catalog(shop)
        except Exception:  # noqa: BLE001 - the old index keeps working meanwhile
            logging.getLogger("chatcart.nlu").exception("nlu.catalog_refresh_failed")


def create_app(settings: Settings, shop: Shop | None = None, nlu: Understander | None = None,
               sweep_seconds: float = 30.0) -> FastAPI:
    """Compose the app; a given `shop` is used as is (and not closed), else one is built.

    The web chat is served when an NLU is available (given, or the embedded one).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = shop is None
        app.state.shop = shop or Shop.from_settings(settings)
        store, redis = bootstrap.session_store(app.state.shop)
        app.state.pipeline = bootstrap.pipeline(app.state.shop, nlu, store) if nlu else None
        app.state.outbox = Outbox()
        tasks = [asyncio.create_task(sweeper_loop(app.state.shop, sweep_seconds))]
        if nlu is not None:
            await nlu.refresh_catalog(app.state.shop)
            tasks.append(asyncio.create_task(
                _keep_catalog_current(nlu, app.state.shop, sweep_seconds)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if redis is not None:
                await redis.aclose()
            if owned:
                await app.state.shop.close()

    app = FastAPI(title="Chatcart", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)

    @app.get("/healthz")
    async def healthz(request: Request) -> JSONResponse:
        ok, body = await health(request.app.state.shop)
        return JSONResponse(body, status_code=200 if ok else 503)

    if nlu is not None:
        app.include_router(webchat_router())

        @app.post("/nlu/parse")
        async def parse(request: Request) -> JSONResponse:
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("text"), str):
                return JSONResponse({"error": "Send {\"text\": \"...\"}."}, status_code=400)
            text = body["text"][:4000]
            return JSONResponse((await nlu.understand(text)).to_rasa_json(text))
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=settings.media_dir), name="media")
    return app
