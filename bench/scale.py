"""Telegram webhook turns on the scale-out shape: two `chatcart serve --no-jobs` processes
(uvicorn, real HTTP on loopback) and a `chatcart worker` on PostgreSQL and Redis, each
update sent to one process or the other, the same shoppers' mix as bench/telegram.py.

Latency is the webhook's answer (the turn done, its replies queued); replies then leave at
Telegram's pace (1 a second per chat), which is the platform's rule, not our cost, so
throughput counts turns answered.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.telegram import SECRET, SHOPPERS, demo_plan, shopper_updates
from bot.nlu.embedded import build_embedded
from core.config import load_settings
from core.shop import Shop
from tests.support import servers
from tests.support.platforms import BOT_TOKEN, FakeTelegram

KEY = "bench-secret-key-0123456789abcdef012345"


class Spread:
    """Posts to the processes in turn, as a load balancer would."""

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self._next = itertools.cycle(clients)

    async def post(self, *args: Any, **kwargs: Any) -> httpx.Response:
        return await next(self._next).post(*args, **kwargs)


async def _prepare(url: str, data: Path) -> list[str]:
    settings = load_settings(DATABASE_URL=url, CHATCART_DATA_DIR=str(data),
                             CHATCART_SECRET_KEY=KEY)
    shop = Shop.from_settings(settings)
    try:
        return await demo_plan(shop)
    finally:
        await shop.close()


async def _run(url: str, redis_url: str, folder: Path) -> dict[str, float]:
    data = folder / "data"
    plan = await _prepare(url, data)
    build_embedded(data / "nlu-model.joblib")
    async with FakeTelegram() as api:
        ports = [servers.free_port(), servers.free_port()]
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
        env.update(DATABASE_URL=url, REDIS_URL=redis_url, CHATCART_DATA_DIR=str(data),
                   CHATCART_SECRET_KEY=KEY, TELEGRAM_BOT_TOKEN=BOT_TOKEN,
                   TELEGRAM_WEBHOOK_SECRET=SECRET, TELEGRAM_API_BASE=api.url,
                   LOG_LEVEL="WARNING", CHAT_FLOOD_LIMIT="0")  # scripted shoppers
        commands = [["serve", "--no-jobs", "--port", str(port)] for port in ports]
        commands.append(["worker"])
        processes = [await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, env=env, cwd=folder,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for args in commands]
        # Idle connections are dropped before uvicorn's 5 s keep-alive ends: reusing one
        # the server was just closing failed a whole run with ReadError (seen once).
        clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60,
                                     limits=httpx.Limits(keepalive_expiry=2.0))
                   for port in ports]
        try:
            for client in clients:
                for _ in range(300):
                    try:
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.2)
            spread = Spread(clients)
            await shopper_updates(spread, 999_999, plan, api, [])  # type: ignore[arg-type]
            latencies: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(*(shopper_updates(spread, 1000 + n, plan, api,  # type: ignore[arg-type]
                                                   latencies) for n in range(2 * SHOPPERS)))
            elapsed = time.perf_counter() - started
        finally:
            for client in clients:
                await client.aclose()
            for process in processes:
                process.terminate()
            for process in processes:
                await asyncio.wait_for(process.wait(), 20)
    ordered = sorted(latencies)
    return {"scale_turns_per_s": len(latencies) / elapsed,
            "scale_p50_ms": statistics.median(ordered) * 1000,
            "scale_p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
            "scale_turns": len(latencies)}


async def measure() -> dict[str, float] | None:
    """None (said why) when PostgreSQL or Redis is not installed."""
    for reason in (servers.postgres_available(), servers.redis_available()):
        if reason:
            print(f"scale-out figure skipped: {reason}")
            return None
    with tempfile.TemporaryDirectory() as folder, servers.PostgresServer() as postgres, \
            servers.RedisServer() as redis:
        return await _run(postgres.create_database("scale"), redis.url, Path(folder))
