"""SQLite statements run on the loop (core/sqlite.py), yet another process's write lock
never holds the loop: a BEGIN that would wait for it waits in aiosqlite's thread. Results
read as with any driver, a dead connection is replaced, and the WAL is checkpointed in a
thread rather than by a commit on the loop."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core import sqlite as sqlite_module
from core.db import create_engine, session_factory, unit_of_work


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


async def test_the_wal_is_checkpointed_off_the_loop(tmp_path, monkeypatch):
    done: list[str] = []
    real = sqlite_module._checkpoint
    monkeypatch.setattr(sqlite_module, "CHECKPOINT_EVERY", 5)
    monkeypatch.setattr(sqlite_module, "_checkpoint", lambda path: (done.append(path),
                                                                    real(path)))
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    sessions = session_factory(engine)
    try:
        for n in range(6):
            async with unit_of_work(sessions) as session:
                if n == 0:
                    await session.execute(text("CREATE TABLE notes (n INTEGER)"))
                await session.execute(text("INSERT INTO notes VALUES (:n)"), {"n": n})
            await asyncio.sleep(0)
        async with unit_of_work(sessions) as session:
            mode = (await session.execute(text("PRAGMA journal_mode"))).scalar()
            automatic = (await session.execute(text("PRAGMA wal_autocheckpoint"))).scalar()
        assert (mode, automatic) == ("wal", 0), "the committing connection never checkpoints"
        for _ in range(50):
            if done:
                break
            await asyncio.sleep(0.02)
        assert done == [str(tmp_path / "wal.db")]
    finally:
        await engine.dispose()
