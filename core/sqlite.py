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

The WAL's checkpoint is not left to COMMIT (SQLite's automatic one would run it on the
loop, with fsyncs: up to 12 ms measured here). Copying the WAL back into the database is
not enough to keep it small: the WAL only starts again from its beginning when a write
transaction begins after everything in it was copied back. A PASSIVE checkpoint in a
thread on a connection of its own, every 200 commits, never got there under steady load:
while it copied, the writer appended. 20,000 new web chats, 8 at a time, about 650 a
second (bench/wal.py) left a 524 MB WAL beside a 7 MB database, still 524 MB when idle.
So every `CHECKPOINT_EVERY` commits, this connection checkpoints itself right after the
COMMIT, in aiosqlite's thread (the loop serves everything but the database meanwhile):
this process's next transaction is still queued for the connection, nobody reads an
older snapshot, everything is copied back, and the next transaction rewrites the WAL from
its start. Measured the same way: the WAL peaks at 5.4 MB; a checkpoint takes about 8 ms
(15 at most), 0.4 s of a 15 s run. The Telegram bench, old and new code run in turn
four times each on a busy machine: 53 and 58 turns a second, 14.5 and 13.8 ms of CPU a
turn, so no cost shows (the old checkpoint copied as much, only in another thread).
Every 1,000 commits instead: a 26 MB WAL and 30 ms pauses, for 0.3 s of 15. When
commits pause for `IDLE_SECONDS`, a TRUNCATE checkpoint in a thread empties the WAL file
(0 MB after 5 s idle); it waits for no writer, and a writer that comes back meanwhile
waits for it in aiosqlite's thread, as for another process. `journal_size_limit` cuts a
WAL grown by one huge transaction back when it next starts again. Another process reading
an old snapshot can still hold a checkpoint short; its next round catches up.

If the file cannot be in WAL mode (some network filesystems), a writer needs readers
gone and a statement can wait: then everything goes through aiosqlite's thread, as it
would without this module.

Measured with the Telegram bench (SQLite, one process, 8 shoppers): 63 turns a second
before, about 98 after.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

log = logging.getLogger("chatcart.db")
Outcome = tuple[Any, list[Any], int, int | None]  # description, rows, rowcount, lastrowid
WAIT_MS = 30_000          # how long a statement may wait for another process, in the thread
CHECKPOINT_EVERY = 200    # commits between two checkpoints of the WAL
IDLE_SECONDS = 1.0        # no commit for this long: the WAL is truncated
CHECKPOINT_WAIT = 0.05    # how long the idle truncation waits for a writer, in seconds
WAL_LIMIT = 16 * 1024 * 1024  # journal_size_limit: the WAL file kept after a restart
REPLAYABLE = ("BEGIN", "SELECT", "PRAGMA")  # statements tried again after "locked"


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """The DBAPI cursor SQLAlchemy sees: each statement runs whole (executed, its rows
    fetched, the sqlite3 cursor closed) in one step, on the loop or in the thread."""

    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")
    _adapt_connection: _Connection

    def __init__(self, adapt_connection: _Connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # sqlite3 cursors live only inside one statement's step
        self._rows: collections.deque[Any] = collections.deque()
        self._description: Any = None
        self._rowcount, self._lastrowid, self._arraysize = -1, None, 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """Nothing to close: the rows are already here, the sqlite3 cursor long gone."""

    def _run(self, operation: str, step: Callable[[sqlite3.Cursor], None]) -> None:
        try:
            raw: sqlite3.Connection = self._connection._conn  # ValueError once closed

            def whole() -> Outcome:
                cursor = raw.cursor()
                try:
                    step(cursor)
                    rows = cursor.fetchall() if cursor.description else []
                    return cursor.description, rows, cursor.rowcount, cursor.lastrowid
                finally:
                    cursor.close()

            if not self._adapt_connection.on_loop:
                outcome = await_(self._connection._execute(whole))
            else:
                try:  # at once: busy_timeout is 0, so a lock held elsewhere is refused
                    outcome = await_(_at_once(whole))
                except sqlite3.OperationalError as refused:
                    if (raw.in_transaction or not _locked(refused)
                            or not operation.lstrip().upper().startswith(REPLAYABLE)):
                        raise
                    outcome = await_(self._connection._execute(_waiting(raw, whole)))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._run(operation, lambda cursor: cursor.execute(operation, parameters or ()))

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._run(operation, lambda cursor: cursor.executemany(operation, seq_of_parameters))


async def _at_once(step: Callable[[], Outcome]) -> Outcome:
    """`step` run on the loop, as an awaitable that never suspends: SQLAlchemy's async
    connection insists that each statement awaited something, and this costs a switch of
    greenlets, not a trip to the thread."""
    return step()


def _locked(error: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY (another connection holds the lock: waiting helps), not SQLITE_LOCKED."""
    return str(error).startswith("database is locked")


def _waiting(raw: sqlite3.Connection, step: Callable[[], Outcome]) -> Callable[[], Outcome]:
    """`step` run in aiosqlite's thread, waiting up to WAIT_MS for the other process."""

    def waited() -> Outcome:
        raw.execute(f"PRAGMA busy_timeout={WAIT_MS}")
        try:
            return step()
        finally:
            raw.execute("PRAGMA busy_timeout=0")

    return waited


def _checkpoint(path: str, mode: str) -> None:
    """A checkpoint on a connection of its own, giving up at once if a writer is back
    (its next idle moment tries again). `mode=rw`: a file gone meanwhile is not made."""
    with contextlib.closing(sqlite3.connect(f"{Path(path).as_uri()}?mode=rw", uri=True,
                                            timeout=CHECKPOINT_WAIT)) as connection:
        connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()


def _checkpoint_failed(done: asyncio.Future[Any]) -> None:
    if not done.cancelled() and (problem := done.exception()) is not None:
        log.warning("db.checkpoint_failed error=%s", type(problem).__name__)


class _Connection(AsyncAdapt_aiosqlite_connection):
    """COMMIT and ROLLBACK on the loop too when in WAL mode: they wait for no one (the
    transaction holds the write lock). The WAL is checkpointed by this connection every
    `CHECKPOINT_EVERY` commits, in its thread, and truncated once commits pause for
    `IDLE_SECONDS` (see the module's docstring for why both)."""

    __slots__ = ("on_loop", "path", "_commits", "_idle")
    _cursor_cls = _Cursor

    def __init__(self, dbapi: Any, connection: Any, on_loop: bool, path: str | None) -> None:
        super().__init__(dbapi, connection)
        self.on_loop, self.path, self._commits = on_loop, path, 0
        self._idle: asyncio.TimerHandle | None = None

    def commit(self) -> None:
        if not self.on_loop:
            super().commit()
            return
        try:
            self._connection._conn.commit()
        except Exception as error:
            self._handle_exception(error)
        self._commits += 1
        if self.path is None:
            return
        if self._commits % CHECKPOINT_EVERY == 0:
            self._checkpoint_here()
        if self._idle is None:
            self._idle = asyncio.get_running_loop().call_later(
                IDLE_SECONDS, self._when_idle, self._commits)

    def _checkpoint_here(self) -> None:
        """Between two transactions, before this process can start the next (they queue
        for this one connection): nothing here reads an older snapshot, so the whole WAL
        is copied back, and the next transaction writes it from its start again. In the
        connection's thread: the loop serves everything but the database meanwhile."""
        raw: sqlite3.Connection = self._connection._conn

        def checkpoint() -> Any:
            return raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

        try:
            await_(self._connection._execute(checkpoint))
        except Exception as problem:  # noqa: BLE001 - committed already; the next one tries
            log.warning("db.checkpoint_failed error=%s", type(problem).__name__)

    def _when_idle(self, seen: int) -> None:
        """No commit since `seen`: truncate the WAL to nothing, in a thread (a file system's
        truncate can take a while); still busy: look again later."""
        loop = asyncio.get_running_loop()
        if self._commits != seen:
            self._idle = loop.call_later(IDLE_SECONDS, self._when_idle, self._commits)
            return
        self._idle = None
        if self.path is None:
            return
        try:
            done = loop.run_in_executor(None, _checkpoint, self.path, "TRUNCATE")
        except RuntimeError:  # the loop is shutting its threads down: nothing to save
            return
        done.add_done_callback(_checkpoint_failed)

    def rollback(self) -> None:
        if not self.on_loop:
            super().rollback()
            return
        if self._connection._connection:
            try:
                self._connection._conn.rollback()
            except Exception as error:
                self._handle_exception(error)

    def close(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        super().close()


class LoopSqlite(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module for `create_async_engine(..., module=LoopSqlite())`."""

    def __init__(self) -> None:
        import aiosqlite

        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        kw["check_same_thread"] = False  # used from the loop and the thread, never at once
        adapted = super().connect(*arg, **kw)
        driver = adapted._connection
        mode = await_(await_(driver.execute("PRAGMA journal_mode=WAL")).fetchone())
        on_loop = str(mode[0] if mode else "").lower() == "wal"
        file = str(arg[0]) if arg else str(kw.get("database", ""))
        path = (str(Path(file).resolve()) if on_loop and file and file != ":memory:"
                and not kw.get("uri") else None)
        # Deleted rows (a delivered order confirmation) are overwritten, not left in free
        # pages: Debian's SQLite does so by default, other builds do not.
        await_(driver.execute("PRAGMA secure_delete=ON"))
        if on_loop:
            await_(driver.execute("PRAGMA busy_timeout=0"))  # see _Cursor._run
        else:
            await_(driver.execute(f"PRAGMA busy_timeout={WAIT_MS}"))
        if path is not None:  # checkpoints between transactions instead (_Connection.commit)
            await_(driver.execute("PRAGMA wal_autocheckpoint=0"))
            await_(driver.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}"))
        return _Connection(self, driver, on_loop, path)
