"""What an attacker with a copy of the database reads: the SQLite file and its WAL as
bytes, or every PostgreSQL table's rows as text."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from core.shop import Shop


def sqlite_files(url: str) -> list[Path]:
    database = Path(url.split("///", 1)[1])
    return [path for path in (database, database.with_name(database.name + "-wal"))
            if path.exists()]


async def stored_as_is(shop: Shop) -> list[bytes]:
    """The files on SQLite; on PostgreSQL every table's rows as text."""
    if shop.settings.is_sqlite:
        return [path.read_bytes() for path in sqlite_files(shop.settings.database_url)]
    async with shop.transaction() as session:
        tables = (await session.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars().all()
        return [str((await session.execute(text(
            f'SELECT coalesce(string_agg(t::text, E\'\\n\'), \'\') FROM "{table}" t'
        ))).scalar()).encode() for table in tables]
