"""The composition root of a serving process: shop, Redis, chat state store, NLU, pipeline."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.handlers import shop_router
from bot.pipeline import Pipeline, Understander
from bot.sessions.flood import FloodGuard
from bot.sessions.ordering import ChatLocks
from bot.sessions.store import DatabaseSessionStore, RedisSessionStore, SessionStore
from core.shop import Shop


def redis(shop: Shop) -> Redis | None:
    """One client for the process when `REDIS_URL` is set (connections come from its pool).
    Short timeouts: a hung Redis must cost a turn a second, not redis-py's default wait."""
    if not shop.settings.redis_url:
        return None
    return Redis.from_url(shop.settings.redis_url, socket_timeout=1.0,
                          socket_connect_timeout=1.0, health_check_interval=30)


def session_store(client: Redis | None) -> SessionStore:
    """Redis when there is one (several processes share chats), else the database."""
    return RedisSessionStore(client) if client is not None else DatabaseSessionStore()


def pipeline(shop: Shop, nlu: Understander, store: SessionStore,
             client: Redis | None = None) -> Pipeline:
    limit = shop.settings.chat_flood_limit
    return Pipeline(shop, store, nlu, shop_router(), ChatLocks(client),
                    FloodGuard(client, limit) if limit else None)
