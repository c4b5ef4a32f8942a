"""What `GET /healthz` reports: the database and, when configured, Redis; and which NLU
answers (a Rasa server that is down does not make the shop unhealthy: the embedded NLU
stands in, and the count of messages it took over is shown)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.shop import Shop


async def redis_state(url: str | None) -> dict[str, object]:
    if not url:
        return {"configured": False, "ok": True}
    client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        await asyncio.wait_for(client.ping(), timeout=2)
        return {"configured": True, "ok": True}
    except (RedisError, OSError, TimeoutError) as exc:
        return {"configured": True, "ok": False, "error": type(exc).__name__}
    finally:
        await client.aclose()


async def health(shop: Shop, nlu: object = None) -> tuple[bool, dict[str, object]]:
    database, redis = await asyncio.gather(shop.database_state(),
                                           redis_state(shop.settings.redis_url))
    ok = bool(database["ok"]) and bool(redis["ok"])
    body: dict[str, object] = {"status": "ok" if ok else "degraded", "database": database,
                               "redis": redis}
    if callable(status := getattr(nlu, "status", None)):
        body["nlu"] = status()
    return ok, body
