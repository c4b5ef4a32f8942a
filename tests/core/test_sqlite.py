"""SQLite statements run on the loop (core/sqlite.py), yet another process's write lock
never holds the loop: a BEGIN that would wait for it waits in aiosqlite's thread. Results
read as with any driver, a dead connection is replaced, and the WAL is checkpointed off the
loop between transactions, so that it stays small under a sustained load and is emptied
when the shop goes idle."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bench import wal as wal_bench
from core import sqlite as sqlite_module
from core.db import create_engine, session_factory, unit_of_work
from core.shop import Shop
from tests.conftest import make_settings


async def test_a_transaction_waiting_for_another_writer_leaves_the_loop_free(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'two.db'}"
    first, second = create_engine(url), create_engine(url)  # two processes' engines
    try:
        async with unit_of_work(session_factory(first)) as session:
            await session.execute(text("CREATE TABLE notes (n INTEGER)"))
        ticks: list[float] = []

        async def tick() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(tick())
        holder_done = asyncio.Event()

        async def holder() -> None:
            async with unit_of_work(session_factory(first)) as session:
                await session.execute(text("INSERT INTO notes VALUES (1)"))
                await asyncio.sleep(0.5)  # the write lock held, as a long import would
            holder_done.set()

        holding = asyncio.create_task(holder())
        await asyncio.sleep(0.1)
        started = time.monotonic()
        async with unit_of_work(session_factory(second)) as session:
            await session.execute(text("INSERT INTO notes VALUES (2)"))  # BEGIN, then this
            assert holder_done.is_set(), "it waited for the other writer's commit"
        waited = time.monotonic() - started
        await holding
        ticking.cancel()
        during = [t for t in ticks if started < t < started + waited]
        assert waited >= 0.3 and len(during) >= waited / 0.01 * 0.5, (
            f"the loop ticked {len(during)} times in {waited:.2f} s of waiting")
        async with unit_of_work(session_factory(second)) as session:
            rows = (await session.execute(text("SELECT n FROM notes ORDER BY n"))).all()
        assert [n for (n,) in rows] == [1, 2]
    finally:
        await first.dispose()
        await second.dispose()


async def test_results_can_be_read_in_batches_and_a_dead_connection_is_replaced(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    sessions = session_factory(engine)
    try:
        async with unit_of_work(sessions) as session:
            await session.execute(text("CREATE TABLE notes (n INTEGER)"))
            await session.execute(text("INSERT INTO notes VALUES (1), (2), (3)"))
            result = await session.execute(text("SELECT n FROM notes ORDER BY n"))
            assert [tuple(row) for row in result.fetchmany()] == [(1,)]
            assert [len(batch) for batch in result.partitions(1)] == [1, 1]
        async with engine.connect() as connection:  # the driver's connection dies
            raw = await connection.get_raw_connection()
            await raw.driver_connection.close()
        with pytest.raises(DBAPIError):
            async with unit_of_work(sessions) as session:
                await session.execute(text("SELECT 1"))
        async with unit_of_work(sessions) as session:  # a new one took its place
            assert (await session.execute(text("SELECT count(*) FROM notes"))).scalar() == 3
    finally:
        await engine.dispose()


async def test_the_wal_is_checkpointed_between_transactions_off_the_loop(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_module, "CHECKPOINT_EVERY", 5)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    sessions = session_factory(engine)
    ran: list[tuple[int, str]] = []
    try:
        async with engine.connect() as connection:  # the pool's one connection
            raw = (await connection.get_raw_connection()).driver_connection._conn
            raw.set_trace_callback(lambda sql: ran.append((threading.get_ident(), sql)))
        for n in range(6):
            async with unit_of_work(sessions) as session:
                if n == 0:
                    await session.execute(text("CREATE TABLE notes (n INTEGER)"))
                await session.execute(text("INSERT INTO notes VALUES (:n)"), {"n": n})
        async with unit_of_work(sessions) as session:
            settings = [(await session.execute(text(f"PRAGMA {name}"))).scalar()
                        for name in ("journal_mode", "wal_autocheckpoint", "journal_size_limit",
                                     "secure_delete")]
        assert settings == ["wal", 0, sqlite_module.WAL_LIMIT, 1], "no checkpoint in a COMMIT"
        checkpoints = [thread for thread, sql in ran if "wal_checkpoint" in sql]
        assert len(checkpoints) == 1, ran
        assert checkpoints[0] != threading.get_ident(), "it ran on the loop"
    finally:
        await engine.dispose()


async def test_an_idle_shop_truncates_its_wal(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_module, "IDLE_SECONDS", 0.2)
    path = tmp_path / "idle.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    sessions = session_factory(engine)
    wal = tmp_path / "idle.db-wal"
    try:
        async with unit_of_work(sessions) as session:
            await session.execute(text("CREATE TABLE notes (body TEXT)"))
        for _ in range(20):  # busy: a commit every 0.05 s, the WAL grows
            async with unit_of_work(sessions) as session:
                await session.execute(text("INSERT INTO notes VALUES (:b)"), {"b": "x" * 50_000})
            await asyncio.sleep(0.05)
        assert wal.stat().st_size > 1_000_000
        await asyncio.sleep(0.6)  # idle
        assert wal.stat().st_size == 0
        async with unit_of_work(sessions) as session:  # and it goes on as before
            assert (await session.execute(text("SELECT count(*) FROM notes"))).scalar() == 20
    finally:
        await engine.dispose()


async def test_the_wal_stays_small_under_a_sustained_load_of_new_chats(sqlite_template, tmp_path,
                                                                      trained):
    """New web chats, 8 at a time, as fast as one process takes them: before, a checkpoint
    never completed while they came, and the WAL grew by about 26 KB a chat (524 MB after
    20,000); now it stays at a few MB, and an idle moment empties it."""
    database = tmp_path / "load.db"
    shutil.copyfile(sqlite_template, database)
    shop = Shop.from_settings(make_settings(f"sqlite+aiosqlite:///{database}",
                                            tmp_path / "data"))
    try:
        figures = await wal_bench.new_chats(shop, trained, database, chats=3000, idle=2.5,
                                            sample=500)
    finally:
        await shop.close()
    assert figures.peak_bytes < 20 * wal_bench.MB, [size // wal_bench.MB for size in
                                                    figures.sizes]
    assert figures.after_idle_bytes == 0
