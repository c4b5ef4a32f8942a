"""SQLite statements run on the loop (core/sqlite.py), yet another process's write lock
never holds the loop: a BEGIN that would wait for it waits in aiosqlite's thread."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

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
