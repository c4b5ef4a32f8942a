"""The floor: a bare aiogram echo bot behind the same FastAPI webhook route, fed the same
Telegram updates by the same shoppers, replying to the same local Bot API double. What a
turn costs in the frameworks alone (HTTP, FastAPI, aiogram's parsing and its API call),
against which a Chatcart turn (NLU, database, rendering, pacing queues) is measured.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
from aiogram import Bot, Dispatcher
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message, Update
from fastapi import FastAPI, Request
from fastapi.responses import Response

from bench.telegram import SECRET, SHOPPERS, shopper_updates
from bot import heap
from bot.channels.telegram import responses
from bot.channels.telegram.wire import JsonSession
from tests.support.platforms import BOT_TOKEN, FakeTelegram

PLAN = ["cats", "cat:7:1", "prod:3", "add:3:1"]  # as many presses as Chatcart's shoppers


def echo_app(api: FakeTelegram) -> tuple[FastAPI, Bot]:
    # Chatcart's session: calls as JSON, so the Bot API double (in this process too) reads
    # the same kind of request from both
    bot = Bot(BOT_TOKEN, session=JsonSession(api=TelegramAPIServer.from_base(api.url)))
    responses.keep()  # as Chatcart's channel does: the same treatment for both
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await bot.send_message(message.chat.id, message.text or "…")

    @dispatcher.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await bot.answer_callback_query(query.id)
        if query.message is not None:
            await bot.send_message(query.message.chat.id, query.data or "…")

    app = FastAPI()

    @app.post("/telegram/webhook")
    async def webhook(request: Request) -> Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != SECRET:
            return Response(status_code=401)
        update = Update.model_validate(await request.json(), context={"bot": bot})
        await dispatcher.feed_update(bot, update)
        return Response()

    return app, bot


async def measure() -> dict[str, float]:
    async with FakeTelegram() as api:
        app, bot = echo_app(api)
        heap.settle()  # as Chatcart's own benchmarks do: the same treatment for both
        latencies: list[float] = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
            await shopper_updates(client, 999_999, PLAN, api, [])  # warm up
            started = time.perf_counter()
            await asyncio.gather(*(shopper_updates(client, 1000 + n, PLAN, api, latencies)
                                   for n in range(SHOPPERS)))
            elapsed = time.perf_counter() - started
        await bot.session.close()
    ordered = sorted(latencies)
    return {"floor_turns_per_s": len(latencies) / elapsed,
            "floor_p50_ms": statistics.median(ordered) * 1000,
            "floor_p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
            "floor_turns": len(latencies)}
