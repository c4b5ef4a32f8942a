"""The one ASGI app `chatcart serve` runs: health, media, the web chat, the help centre,
`/nlu/parse`, the Telegram and Slack channels whose credentials are set, the payment
webhooks and the admin console. Around all of it: bounded request bodies (bot.bodies)
and security headers (bot.headers); its OpenAPI document is at /openapi.json
(bot.openapi).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.metadata import entry_points
from types import FrameType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from bot import bootstrap, heap, jobs, logs
from bot.bodies import SMALL_CAP, BadBody, BodyLimit, read_json
from bot.channels.delivery import Limits
from bot.channels.slack.events import slack_router
from bot.channels.telegram.webhook import telegram_router
from bot.channels.webchat import PHOTO_PATH, Gate, Inbox, webchat_router
from bot.channels.webchat_push import push_router
from bot.headers import SecurityHeaders
from bot.health import health
from bot.help_centre import help_router
from bot.mail_channel import MailChannel
from bot.messages import MAX_UPLOAD
from bot.notice_push import NoticePush
from bot.notice_sms import SMS_PLATFORM, NoticeSms
from bot.notification_pages import notification_router
from bot.openapi import publish
from bot.payments.routes import payments_router
from bot.pipeline import Understander
from bot.relay import Relay
from bot.wakeups import Wakeups
from core.config import Settings
from core.notifications.events import Channel
from core.shop import Shop
from core.support.conversations import EMAIL_PLATFORM

log = logging.getLogger("chatcart")
CONSOLE_CAP = 10 * 1024 * 1024  # a product's picture (8 MiB) or a catalog file (5 MiB)


async def _keep_catalog_current(nlu: Understander, shop: Shop, seconds: float) -> None:
    """New and renamed products become recognisable in chat within `seconds`."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await nlu.refresh_catalog(shop)
        except Exception:  # noqa: BLE001 - the old index keeps working meanwhile
            logging.getLogger("chatcart.nlu").exception("nlu.catalog_refresh_failed")


def create_app(settings: Settings, shop: Shop | None = None, nlu: Understander | None = None,
               sweep_seconds: float = 30.0, telegram_polling: bool = False,
               limits: Limits | None = None, background: bool = True) -> FastAPI:
    """Compose the app; a given `shop` is used as is (and not closed), else one is built.

    The chat channels are served when an NLU is available (given, or the embedded one);
    Telegram and Slack when their credentials are set. `limits` overrides the platforms'
    sending pace (tests). `background` False leaves the jobs (expiry, the outbox to
    Telegram and Slack) to a `chatcart worker`; web chat messages are always handed out
    here, to the client that asks.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = shop is None
        app.state.shop = running = shop or Shop.from_settings(settings)
        redis = bootstrap.redis(running)
        store = bootstrap.session_store(redis)
        app.state.pipeline = bootstrap.pipeline(running, nlu, store, redis) if nlu else None
        app.state.inbox = Inbox(running)
        app.state.webchat_gate = Gate(running.settings, redis)
        app.state.telegram = app.state.slack = None
        if nlu is not None:  # before anything needs undoing: the database may be down
            await nlu.refresh_catalog(running)
        tasks: list[asyncio.Task[None]] = []
        stops = []
        if app.state.pipeline is not None:
            stops = await _start_channels(app, settings, telegram_polling, limits, tasks)
        gateways = running.gateways
        logs.event(log, "server.payments", gateways=", ".join(sorted(gateways)),
                   level=logging.WARNING if "offline" in gateways else logging.INFO,
                   note="TEST payments only: no money moves (set Stripe or PayPal keys)"
                   if "offline" in gateways else "live gateways")
        channels = {name: channel for name in ("telegram", "slack")
                    if (channel := getattr(app.state, name)) is not None}
        channels[EMAIL_PLATFORM] = MailChannel(running)  # support answers, order notices
        channels[SMS_PLATFORM] = sms = NoticeSms(running)  # order notices by SMS (TWILIO_*)
        channels[Channel.PUSH.value] = pusher = NoticePush(running)  # push:notice-<id>
        app.state.relay = relay = Relay(running, jobs.deliver_through(channels), list(channels))
        wakeups = Wakeups(redis, [app.state.inbox.notify, lambda keys: relay.wake()],
                          running.newsroom)
        running.commit_listeners.append(wakeups.committed)
        tasks.append(asyncio.create_task(wakeups.listen(), name="wakeups"))
        if app.state.slack is not None and app.state.slack.open_desk(running) and background:
            tasks.append(jobs.start_desk(app.state.slack))
        if background:
            tasks += jobs.start(running, relay, sweep_seconds)
        else:
            logs.event(log, "server.jobs_elsewhere", logging.WARNING,
                       note="unpaid orders expire and Telegram/Slack messages go out only "
                            "while a `chatcart worker` runs")
        if nlu is not None:
            tasks.append(asyncio.create_task(
                _keep_catalog_current(nlu, running, sweep_seconds)))
        try:
            yield
        finally:
            running.commit_listeners.remove(wakeups.committed)
            relay.claiming = False  # then what is queued goes out, then it is marked
            for stop in stops:
                with contextlib.suppress(Exception):
                    await stop()
            await relay.settle(5)
            await sms.close()  # its HTTP session, once what was under way is marked
            await pusher.close()  # its connections to push services
            await jobs.stop(tasks)
            if redis is not None:
                await redis.aclose()
            if owned:
                await running.close()

    app = FastAPI(title="Chatcart", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")

    @app.get("/healthz")
    async def healthz(request: Request) -> JSONResponse:
        ok, body = await health(request.app.state.shop, nlu)
        return JSONResponse(body, status_code=200 if ok else 503)

    if nlu is not None:  # the chat webhooks early: a request is matched in this order
        app.include_router(telegram_router())
        app.include_router(webchat_router())
        app.include_router(push_router())
        app.include_router(slack_router())

        @app.post("/nlu/parse")
        async def parse(request: Request) -> JSONResponse:
            try:
                body = await read_json(request, SMALL_CAP)
            except BadBody as bad:
                return bad.response()
            if not isinstance(body, dict) or not isinstance(body.get("text"), str):
                return JSONResponse({"error": "Send {\"text\": \"...\"}."}, status_code=400)
            text = body["text"][:4000]
            return JSONResponse((await nlu.understand(text)).to_rasa_json(text))
    app.include_router(payments_router())
    app.include_router(help_router())
    app.include_router(notification_router())
    caps = {"/webchat/": SMALL_CAP, "/nlu/": SMALL_CAP, "/notifications/": SMALL_CAP,
            PHOTO_PATH: MAX_UPLOAD}
    for console in entry_points(group="chatcart.consoles"):
        app.mount(f"/{console.name}", console.load()(settings, lambda: app.state.shop))
        caps[f"/{console.name}/"] = CONSOLE_CAP
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=settings.media_dir), name="media")
    app.add_middleware(BodyLimit, caps=caps)
    app.add_middleware(SecurityHeaders, https=settings.base_url.startswith("https://"))
    publish(app)
    return app


def run(app: FastAPI, host: str, port: int, log_level: str,
        forwarded_allow_ips: str = "127.0.0.1,::1") -> None:
    """Serve `app` with uvicorn until SIGTERM or SIGINT.

    uvicorn lets open requests finish before the app's own shutdown begins, so at the
    signal the shop is told it is closing: web chat polls and console streams answer at
    once (their clients reconnect, to another process when there are several). Anything
    still open 8 s later is cut (under Docker's 10 s before it kills). Once started, the
    heap is settled (bot/heap.py). Forwarded client addresses are believed from
    `forwarded_allow_ips` only (FORWARDED_ALLOW_IPS).
    """
    import uvicorn

    class Server(uvicorn.Server):
        loop: asyncio.AbstractEventLoop | None = None

        async def serve(self, sockets: list[Any] | None = None) -> None:
            self.loop = asyncio.get_running_loop()
            await super().serve(sockets)

        async def startup(self, sockets: list[Any] | None = None) -> None:
            await super().startup(sockets)  # the app's start-up (lifespan) is done
            heap.settle()

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            running: Shop | None = getattr(app.state, "shop", None)
            if running is not None and self.loop is not None:
                self.loop.call_soon_threadsafe(running.closing.set)

    Server(uvicorn.Config(app, host=host, port=port, log_config=None, log_level=log_level,
                          proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips,
                          timeout_graceful_shutdown=8)).run()


async def _start_channels(app: FastAPI, settings: Settings, polling: bool, limits: Limits | None,
                          tasks: list[asyncio.Task[None]]) -> list[Callable[[], Awaitable[None]]]:
    """Switch on the channels whose credentials are set; returns how to stop them."""
    stops: list[Callable[[], Awaitable[None]]] = []
    on = ["web"]
    if settings.telegram_bot_token:
        from bot.channels.telegram.channel import TelegramChannel

        telegram = TelegramChannel(settings, app.state.pipeline, limits)
        app.state.telegram = telegram
        await telegram.register_commands()
        if polling:
            tasks.append(asyncio.create_task(telegram.poll(), name="telegram-polling"))
            stops.append(telegram.dispatcher.stop_polling)
        stops.append(telegram.close)
        on.append("telegram (polling)" if polling else "telegram (webhook)")
    if settings.slack_bot_token:
        from bot.channels.slack.channel import SlackChannel

        slack = SlackChannel(settings, app.state.pipeline, limits)
        app.state.slack = slack
        if settings.slack_app_token:
            stops.append(await slack.connect_socket_mode(settings.slack_app_token))
        stops.append(slack.close)
        on.append("slack (socket mode)" if settings.slack_app_token else "slack (events)")
    logs.event(log, "server.channels", on=", ".join(on))
    return stops
