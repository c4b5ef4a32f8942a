"""The demo shop for tests: filled once per test session (per backend and currency), then
copied into each test's empty database and data folder.

Filling draws 48 pictures, makes their thumbnails, imports them and hashes the demo
admin's password: about 2.3 s, which each of some two hundred journey tests paid again.
A copy is a file copy on SQLite and `CREATE DATABASE ... TEMPLATE` on PostgreSQL, plus
the data folder (pictures, the admin's remembered password). A database a test already
put something in is filled as before, by `bot.demo.fill` itself.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.demo import DemoShop, fill
from core.accounts.models import User
from core.catalog.models import Product
from core.shop import Shop


@dataclass(frozen=True)
class _Template:
    database: str          # a file path on SQLite, a database name on PostgreSQL
    data_dir: Path


_templates: dict[tuple[str, str, str], _Template] = {}
_numbers = itertools.count()


async def demo_filled(shop: Shop) -> DemoShop:
    """What `fill(shop)` gives, taken from the session's filled copy when `shop` is empty."""
    settings = shop.settings
    async with shop.transaction() as session:
        empty = not (await session.scalar(select(func.count(Product.id))) or
                     await session.scalar(select(func.count(User.id))))
    if not empty:
        return await fill(shop)
    await shop.engine.dispose()  # nothing may hold the database while it is replaced
    key = ("sqlite" if settings.is_sqlite else "postgresql", settings.shop_currency,
           settings.secret_key)
    template = _templates.get(key) or await _make_template(shop, key)
    if settings.is_sqlite:
        target = Path(make_url(settings.database_url).database or "")
        for leftover in (target.with_name(target.name + "-wal"),
                         target.with_name(target.name + "-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(template.database, target)
    else:
        name = make_url(settings.database_url).database
        await _admin(settings.database_url,
                     f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                     f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"')
    shutil.copytree(template.data_dir, settings.data_dir, dirs_exist_ok=True)
    return await fill(shop)  # finds everything there: reads the counts and the password


async def _make_template(shop: Shop, key: tuple[str, str, str]) -> _Template:
    """Fill a copy of `shop`'s empty database once, in a folder of its own."""
    settings = shop.settings
    folder = Path(tempfile.mkdtemp(prefix="chatcart-demo-template-"))
    atexit.register(shutil.rmtree, folder, True)
    if settings.is_sqlite:
        database = str(folder / "demo.db")
        shutil.copyfile(make_url(settings.database_url).database or "", database)
        url = str(make_url(settings.database_url).set(database=database))
    else:
        database = f"demo_template_{os.getpid()}_{next(_numbers)}"
        source = make_url(settings.database_url).database
        await _admin(settings.database_url, f'CREATE DATABASE "{database}" TEMPLATE "{source}"')
        url = make_url(settings.database_url).set(database=database).render_as_string(
            hide_password=False)
    copy = Shop.from_settings(settings.model_copy(
        update={"database_url": url, "data_dir": folder / "data"}))
    try:
        await fill(copy)
    finally:
        await copy.close()
    _templates[key] = template = _Template(database, folder / "data")
    return template


async def _admin(database_url: str, *statements: str) -> None:
    """Statements run on the server's `postgres` database (those that make databases)."""
    url = make_url(database_url)
    connection = await asyncpg.connect(user=url.username, password=url.password,
                                       host=url.host, port=url.port, database="postgres")
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()
