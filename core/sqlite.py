"""SQLite under the async engine, without a thread hop for every statement.

aiosqlite runs each call in its own thread: a cursor, the statement, its rows and the
cursor's close are four trips there and back, each waiting its turn on a busy event loop.
SQLite allows one writer at a time, so every turn waited for all of another turn's trips
(about 40 a turn), and the database, not the work, set the pace.

Here a statement runs at once on the loop when its transaction already holds SQLite's
write lock (every transaction begins with BEGIN IMMEDIATE, core/db.py). In WAL mode
nothing can make such a statement wait for another process, and these statements take
microseconds. What can wait - BEGIN IMMEDIATE while another process writes, statements
outside a transaction, COMMIT with its occasional checkpoint - still goes through
aiosqlite's thread, so the loop is never held by another process's lock.

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
            if raw.in_transaction:  # holding the write lock: nothing to wait for
                outcome = whole()
            else:
                outcome = await_(self._connection._execute(whole))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._run(lambda cursor: cursor.execute(operation, parameters or ()))

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._run(lambda cursor: cursor.executemany(operation, seq_of_parameters))


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _Cursor


class LoopSqlite(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module for `create_async_engine(..., module=LoopSqlite())`."""

    def __init__(self) -> None:
        import aiosqlite

        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        kw["check_same_thread"] = False  # used from the loop and the thread, never at once
        adapted = super().connect(*arg, **kw)
        return _Connection(self, adapted._connection)
