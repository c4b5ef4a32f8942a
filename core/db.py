"""The database: declarative base, engine construction and the unit of work.

Nothing connects at import time: the composition root calls `create_engine`
and passes sessions into services.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Delete,
    Enum,
    MetaData,
    Table,
    delete,
    event,
    select,
)
from sqlalchemy import inspect as inspect_model
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.sql.base import Executable
from sqlalchemy.types import TypeDecorator

from core.sqlite import LoopSqlite

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use core.clock.now()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum: type[StrEnum], length: int = 24) -> Enum:
    """A VARCHAR column holding the enum's values ("paid"), checked on the way in."""
    return Enum(enum, native_enum=False, length=length, validate_strings=True,
                values_callable=lambda members: [member.value for member in members])


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


PURGE_CHUNK = 5000   # rows per purge statement: SQLite's write lock is held for one chunk


def bounded_delete(model: type[Base], *where: ColumnElement[bool],
                   limit: int = PURGE_CHUNK) -> Delete:
    """DELETE of at most `limit` rows of `model` matching `where` (by primary key, through a
    subquery with LIMIT, on SQLite and PostgreSQL alike): a purge of millions of rows goes
    a chunk per statement, each in its own short transaction (bot/sweeper.py)."""
    key = inspect_model(model).primary_key[0]
    return (delete(model).where(key.in_(select(key).where(*where).limit(limit)
                                        .scalar_subquery()))
            .execution_options(synchronize_session=False))


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An engine tuned per backend.

    SQLite: one pooled connection, so writers in this process queue on the pool
    (awaited, never blocking the loop) instead of spinning in SQLite's busy handler;
    BEGIN IMMEDIATE takes the write lock up front so another process cannot sneak
    a write between our read and our update; WAL lets readers of other processes go on;
    the statements of a transaction holding the lock run on the loop (core/sqlite.py).
    """
    if not url.startswith("sqlite"):
        return _create_async_engine(url, echo=echo, pool_size=10, max_overflow=10,
                                    pool_pre_ping=True)
    engine = _create_async_engine(
        url, echo=echo, poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0,
        pool_timeout=60, connect_args={"timeout": 30}, module=LoopSqlite(),
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        # WAL mode, the busy timeout and checkpoints: core/sqlite.py, which relies on them.
        for pragma in ("synchronous=NORMAL", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    from core import models  # noqa: F401 - every mapper known before the first flush

    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commit when the block ends, roll back on any error."""
    async with sessions() as session, session.begin():
        yield session


@functools.cache
def _insert(dialect: str, table: Table, columns: tuple[str, ...], conflict: tuple[str, ...],
            update: bool) -> Any:
    """An INSERT ... ON CONFLICT built once per shape: these run on every chat turn, and
    building and keying a statement each time cost more than running it."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    if not update:
        return statement.on_conflict_do_nothing(index_elements=list(conflict))
    return statement.on_conflict_do_update(
        index_elements=list(conflict),
        set_={k: statement.excluded[k] for k in columns if k not in conflict})


def _execute(session: Session, statement: Executable, values: dict[str, Any]) -> Any:
    if session.autoflush:  # as an ORM statement would: pending rows go first
        session.flush()
    return session.connection().execute(statement, values)


async def run(session: AsyncSession, statement: Executable, values: dict[str, Any]) -> Any:
    """A Core statement (built once, with bind parameters) on the session's connection,
    past the ORM's per-statement work: for the few statements every chat turn runs. One
    trip into SQLAlchemy's greenlet for flush and statement together (the async
    connection's own execute took two, and half again the time). The driver has
    fetched the rows by then, as `AsyncConnection.execute` relies on too."""
    return await session.run_sync(_execute, statement, values)


async def _run_insert(session: AsyncSession, model: type[Base], values: dict[str, Any],
                      conflict: list[str], update: bool) -> Any:
    statement = _insert(session.bind.dialect.name, model.__table__,  # type: ignore[arg-type]
                        tuple(values), tuple(conflict), update)
    return await run(session, statement, values)


async def upsert(session: AsyncSession, model: type[Base], values: dict[str, Any],
                 conflict: list[str]) -> None:
    """INSERT, or UPDATE the row already there with the same values: one statement, where
    reading first would cost a second one on every call."""
    await _run_insert(session, model, values, conflict, update=True)


async def insert_or_ignore(
    session: AsyncSession, model: type[Base], values: dict[str, Any], conflict: list[str]
) -> bool:
    """INSERT that quietly yields to a row already there; True when this call inserted."""
    result = await _run_insert(session, model, values, conflict, update=False)
    return bool(result.rowcount)  # type: ignore[attr-defined]
