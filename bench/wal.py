"""The SQLite WAL under a sustained load of new web chats: how large it grows, and what is
left of it once the shop has been idle a few seconds.

Each new chat is one turn through the pipeline (a greeting from a chat never seen
before: an identity, a chat session and their rows written), `CONCURRENCY` at a time, as
many web chats opening at once would send them. The web chat's HTTP face is left out:
the WAL grows with the commits, not with the requests. tests/core/test_sqlite_wal.py
runs the same driver, shorter, and holds the WAL to a bound.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot import bootstrap
from bot.demo import fill
from bot.messages import ChatRef, Incoming, Kind
from bot.pipeline import Understander
from bot.sessions.store import DatabaseSessionStore
from core.config import load_settings
from core.shop import Shop

CHATS, CONCURRENCY, IDLE = 20_000, 8, 5.0
MB = 1024 * 1024


@dataclass
class WalFigures:
    chats: int = 0
    seconds: float = 0.0
    peak_bytes: int = 0
    after_idle_bytes: int = 0
    database_bytes: int = 0
    sizes: list[int] = field(default_factory=list)  # the WAL's size after each `sample`

    def as_json(self) -> dict[str, float]:
        return {"wal_chats": self.chats, "wal_chats_per_s": self.chats / self.seconds,
                "wal_peak_mb": self.peak_bytes / MB,
                "wal_after_idle_mb": self.after_idle_bytes / MB,
                "wal_database_mb": self.database_bytes / MB}


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


async def new_chats(shop: Shop, nlu: Understander, database: Path, *, chats: int,
                    concurrency: int = CONCURRENCY, idle: float = IDLE,
                    sample: int = 1000) -> WalFigures:
    """`chats` new web chats through the pipeline, their WAL watched the whole time."""
    pipeline = bootstrap.pipeline(shop, nlu, DatabaseSessionStore())
    wal = database.with_name(database.name + "-wal")
    figures = WalFigures()
    numbers = itertools.count()
    done = 0

    async def opener() -> None:
        nonlocal done
        while (n := next(numbers)) < chats:
            chat = ChatRef("web", f"wal-{n:08d}", f"wal-{n:08d}")
            await pipeline.handle(Incoming(chat, Kind.TEXT, text="hi"))
            figures.peak_bytes = max(figures.peak_bytes, _size(wal))
            done += 1
            if done % sample == 0:
                figures.sizes.append(_size(wal))

    started = time.perf_counter()
    await asyncio.gather(*(opener() for _ in range(concurrency)))
    figures.seconds = time.perf_counter() - started
    figures.chats = chats
    await asyncio.sleep(idle)
    figures.after_idle_bytes = _size(wal)
    figures.peak_bytes = max(figures.peak_bytes, figures.after_idle_bytes)
    figures.database_bytes = _size(database)
    return figures


async def measure(nlu: Understander, chats: int = CHATS) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"
        settings = load_settings(DATABASE_URL=f"sqlite+aiosqlite:///{database}",
                                 CHATCART_DATA_DIR=str(Path(folder) / "data"),
                                 CHATCART_SECRET_KEY="bench-secret-key-0123456789abcdef012345",
                                 CHAT_FLOOD_LIMIT=0)
        shop = Shop.from_settings(settings)
        try:
            await fill(shop)
            await nlu.refresh_catalog(shop)
            figures = await new_chats(shop, nlu, database, chats=chats)
        finally:
            await shop.close()
    return figures.as_json()


def table(figures: dict[str, float]) -> str:
    return (f"SQLite WAL under {figures['wal_chats']:.0f} new web chats "
            f"({CONCURRENCY} at a time, {figures['wal_chats_per_s']:.0f}/s, 1 process): "
            f"peak {figures['wal_peak_mb']:.1f} MB, {figures['wal_after_idle_mb']:.1f} MB "
            f"after {IDLE:.0f} s idle, beside a {figures['wal_database_mb']:.1f} MB database")
