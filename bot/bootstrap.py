"""The composition root of a serving process: shop, chat state store, NLU, pipeline."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.handlers import shop_router
from bot.pipeline import Pipeline, Understander
from bot.sessions.store import DatabaseSessionStore, RedisSessionStore, SessionStore
from core.shop import Shop


def session_store(shop: Shop) -> tuple[SessionStore, Redis | None]:
    """Redis when `REDIS_URL` is set (several processes share chats), else the database."""
    if shop.settings.redis_url:
        client = Redis.from_url(shop.settings.redis_url)
        return RedisSessionStore(client), client
    return DatabaseSessionStore(), None


def pipeline(shop: Shop, nlu: Understander, store: SessionStore) -> Pipeline:
    return Pipeline(shop, store, nlu, shop_router())
