"""Shared fixtures: every `shop` test runs on SQLite and on a throwaway PostgreSQL.

PostgreSQL and Redis are started once per test session when their binaries exist.
Without them the PostgreSQL half is skipped with the reason, except in CI (CI=true),
where a missing server is a failure: CI must run them.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.nlu.embedded import EmbeddedNlu, build_embedded
from core.config import Settings, load_settings
from core.db import create_engine
from core.migrate import upgrade
from core.shop import Shop
from tests.support import servers
from tests.support.smtp import SmtpInbox, smtp_server

IN_CI = os.environ.get("CI", "").lower() == "true"
SECRET = "test-secret-key-0123456789abcdef0123456789"
_CHATCART_ENV = [
    "DATABASE_URL", "REDIS_URL", "CHATCART_SECRET_KEY", "CHATCART_DATA_DIR", "PUBLIC_BASE_URL",
    "SHOP_CURRENCY", "RESERVATION_MINUTES", "LOG_LEVEL", "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_BASE", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET",
    "SLACK_API_BASE", "SLACK_APP_TOKEN", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_API_BASE", "PAYPAL_WEBHOOK_ID",
    "RASA_URL", "SMTP_URL", "TAX_RATE_PERCENT", "PAYMENT_CAPTURE", "CHAT_FLOOD_LIMIT",
    "WEBCHAT_NEW_CHATS_PER_MINUTE", "WEBCHAT_MESSAGES_PER_MINUTE", "WEBCHAT_POLLS_PER_CLIENT",
    "WEBCHAT_POLLS_PER_PROCESS", "CONSOLE_STREAMS_PER_STAFF", "CONSOLE_STREAMS_PER_PROCESS",
    "FORWARDED_ALLOW_IPS",
]
# Scripted shoppers all come from one address; the web chat's per-client limits are off.
UNLIMITED_CLIENT = {"WEBCHAT_NEW_CHATS_PER_MINUTE": "0", "WEBCHAT_MESSAGES_PER_MINUTE": "0"}
_numbers = itertools.count()
# tests/rasa trains and runs a real Rasa server: minutes and gigabytes, so `make test-rasa`.
collect_ignore = [] if os.environ.get("CHATCART_RASA_TESTS") else ["rasa"]


def pytest_report_header() -> list[str]:
    """Say up front whether the PostgreSQL and Redis halves will run."""
    lines = []
    chromium = None if Path("/usr/bin/chromium").exists() else "no /usr/bin/chromium"
    for name, reason in (("PostgreSQL", servers.postgres_available()),
                         ("Redis", servers.redis_available()),
                         ("Chromium (browser tests)", chromium)):
        verdict = "throwaway server per test session" if reason is None else (
            f"MISSING ({reason}): {'CI fails' if IN_CI else 'its tests are skipped'}")
        lines.append(f"{name}: {verdict}")
    if collect_ignore:
        lines.append("Rasa: not collected (its tests run with `make test-rasa`)")
    return lines


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI must run this test, but: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's .env, variables or ./chatcart.db."""
    for name in _CHATCART_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def postgres() -> Iterator[servers.PostgresServer]:
    if reason := servers.postgres_available():
        _unavailable(f"PostgreSQL tests skipped: {reason}")
    with servers.PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[servers.RedisServer]:
    if reason := servers.redis_available():
        _unavailable(f"Redis tests skipped: {reason}")
    with servers.RedisServer() as server:
        yield server


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import asyncio

    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres: servers.PostgresServer) -> str:
    import asyncio

    name = "chatcart_template"
    asyncio.run(_migrate(postgres.create_database(name)))
    return name


def new_database_url(request: pytest.FixtureRequest, backend: str, folder: Path) -> str:
    """A fresh, migrated database on `backend`, copied from the session's template."""
    if backend == "sqlite":
        path = folder / f"shop-{next(_numbers)}.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    server: servers.PostgresServer = request.getfixturevalue("postgres")
    template = request.getfixturevalue("postgres_template")
    name = f"test_{os.getpid()}_{next(_numbers)}"
    url = server.create_database(name, template=template)
    request.addfinalizer(lambda: server.drop_database(name))
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    return new_database_url(request, backend, tmp_path)


def make_settings(database_url: str, data_dir: Path, **extra: object) -> Settings:
    """Test settings. Scripted shoppers type faster than people, all from one address, so
    the flood guard and the web chat's per-client limits are off unless a test sets them
    (tests/bot/sessions/test_flood.py and tests/e2e/test_webchat_limits.py do)."""
    return load_settings(**{"DATABASE_URL": database_url, "CHATCART_DATA_DIR": str(data_dir),
                            "CHATCART_SECRET_KEY": SECRET, "CHAT_FLOOD_LIMIT": 0,
                            **UNLIMITED_CLIENT, **extra})


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "data")


@pytest.fixture
async def shop(settings: Settings) -> AsyncIterator[Shop]:
    shop = Shop.from_settings(settings)
    yield shop
    await shop.close()


@pytest.fixture
def inbox() -> Iterator[SmtpInbox]:
    """A real SMTP server on loopback that keeps each session's mail
    (`make_settings(..., SMTP_URL=inbox.url)`)."""
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedNlu:
    """The embedded NLU trained once for the whole run (journeys and the console's chats)."""
    return build_embedded(tmp_path_factory.mktemp("nlu") / "model.joblib")
