"""The throwaway servers really start, serve and stop: the rest of the suite relies on them."""

from __future__ import annotations

import os
import urllib.parse

import pytest

from tests.support import servers

IN_CI = os.environ.get("CI", "").lower() == "true"


def _require(reason: str | None) -> None:
    """Skip when a server's binaries are missing, but fail in CI, which must run these tests."""
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI must run this test, but: {reason}", pytrace=False)
    pytest.skip(reason)


def _asyncpg_dsn(sqlalchemy_url: str) -> str:
    """asyncpg speaks plain postgresql:// URLs, not SQLAlchemy's postgresql+asyncpg://."""
    parts = urllib.parse.urlsplit(sqlalchemy_url)
    return urllib.parse.urlunsplit(parts._replace(scheme="postgresql"))


@pytest.mark.postgres
async def test_postgres_server_starts_serves_and_stops() -> None:
    _require(servers.postgres_available())
    import asyncpg

    server = servers.PostgresServer()
    server.start()
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(server.url()))
        try:
            assert await connection.fetchval("SELECT 1") == 1
        finally:
            await connection.close()

        # Called from inside the running event loop on purpose: fixtures do the same.
        template_url = server.create_database("support_template")
        template = await asyncpg.connect(_asyncpg_dsn(template_url))
        try:
            await template.execute("CREATE TABLE marker (v int); INSERT INTO marker VALUES (42)")
        finally:
            await template.close()

        copy_url = server.create_database("support_copy", template="support_template")
        assert copy_url == server.url("support_copy")
        copy = await asyncpg.connect(_asyncpg_dsn(copy_url))
        try:
            assert await copy.fetchval("SELECT v FROM marker") == 42
            server.drop_database("support_copy")  # WITH (FORCE) ends this session
        finally:
            await copy.close()
        with pytest.raises(asyncpg.InvalidCatalogNameError):
            await asyncpg.connect(_asyncpg_dsn(copy_url))
        port = server.port
    finally:
        server.stop()
    server.stop()  # idempotent

    with pytest.raises(OSError):
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", timeout=2)


@pytest.mark.redis
async def test_redis_server_starts_serves_and_stops() -> None:
    _require(servers.redis_available())
    import redis.asyncio as aioredis
    from redis.exceptions import ConnectionError as RedisConnectionError

    with servers.RedisServer() as server:
        url = server.url
        client = aioredis.Redis.from_url(url)
        try:
            await client.set("greeting", "hello")
            assert await client.get("greeting") == b"hello"
        finally:
            await client.aclose()
    server.stop()  # idempotent

    client = aioredis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        with pytest.raises(RedisConnectionError):
            await client.ping()
    finally:
        await client.aclose()
