"""SQLite under the async engine, without a thread hop for every statement.

aiosqlite runs each call in its own thread: a cursor, the statement, its rows and the
cursor's close are four trips there and back, each waiting its turn on a busy event loop.
SQLite allows one writer at a time, so every turn waited for all of another turn's trips
(about 40 a turn), and the database, not the work, set the pace.

Here every statement runs at once on the loop, in one step (executed, its rows fetched,
the sqlite3 cursor closed), and so do COMMIT and ROLLBACK. Only one thing can make a
statement wait: another process holding the write lock when BEGIN IMMEDIATE asks for it
(core/db.py begins every transaction so; in WAL mode, nothing else waits). The busy
timeout is 0, so SQLite refuses at once rather than wait on the loop, and that BEGIN is
tried again in aiosqlite's thread, waiting there up to 30 s as before. One process's
turns never meet that case: they queue for the engine's one connection.

A long statement (a large import, a report over years of orders) now holds the loop for
its length; turns waited for it before as well, on the one connection.

Measured with the Telegram bench (SQLite, one process, 8 shoppers): 63 turns a second
before, about 98 after.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, int | None]  # description, rows, rowcount, lastrowid
WAIT_MS = 30_000  # how long a BEGIN waits for another process's write, in the thread


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """The DBAPI cursor SQLAlchemy sees: each statement runs whole (executed, its rows
    fetched, the sqlite3 cursor closed) in one step, on the loop or in the thread."""

    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # sqlite3 cursors live only inside one statement's step
        self._rows: collections.deque[Any] = collections.deque()
        self._description: Any = None
        self._rowcount, self._lastrowid = -1, None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """Nothing to close: the rows are already here, the sqlite3 cursor long gone."""

    def _run(self, step: Callable[[sqlite3.Cursor], None]) -> None:
        raw: sqlite3.Connection = self._connection._conn

        def whole() -> Outcome:
            cursor = raw.cursor()
            try:
                step(cursor)
                rows = cursor.fetchall() if cursor.description else []
                return cursor.description, rows, cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        try:
            try:  # at once; busy_timeout is 0, so a lock held elsewhere is refused, not
                outcome = await_(_at_once(whole))  # awaited (see _at_once for the await_)
            except sqlite3.OperationalError as refused:
                if raw.in_transaction or not _locked(refused):
                    raise
                outcome = await_(self._connection._execute(_waiting(raw, whole)))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._run(lambda cursor: cursor.execute(operation, parameters or ()))

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._run(lambda cursor: cursor.executemany(operation, seq_of_parameters))


async def _at_once(step: Callable[[], Outcome]) -> Outcome:
    """`step` run on the loop, as an awaitable that never suspends: SQLAlchemy's async
    connection insists that each statement awaited something, and this costs a switch of
    greenlets, not a trip to the thread."""
    return step()


def _locked(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def _waiting(raw: sqlite3.Connection, step: Callable[[], Outcome]) -> Callable[[], Outcome]:
    """`step` run in aiosqlite's thread, waiting up to WAIT_MS for the other process."""

    def waited() -> Outcome:
        raw.execute(f"PRAGMA busy_timeout={WAIT_MS}")
        try:
            return step()
        finally:
            raw.execute("PRAGMA busy_timeout=0")

    return waited


class _Connection(AsyncAdapt_aiosqlite_connection):
    """COMMIT and ROLLBACK on the loop too: they wait for no one (the transaction holds
    the write lock), and the checkpoint a commit sometimes runs is PASSIVE."""

    __slots__ = ()
    _cursor_cls = _Cursor

    def commit(self) -> None:
        try:
            self._connection._conn.commit()
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        if self._connection._connection:
            try:
                self._connection._conn.rollback()
            except Exception as error:
                self._handle_exception(error)


class LoopSqlite(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module for `create_async_engine(..., module=LoopSqlite())`."""

    def __init__(self) -> None:
        import aiosqlite

        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        kw["check_same_thread"] = False  # used from the loop and the thread, never at once
        adapted = super().connect(*arg, **kw)
        await_(adapted._connection.execute("PRAGMA busy_timeout=0"))  # see _Cursor._run
        return _Connection(self, adapted._connection)
