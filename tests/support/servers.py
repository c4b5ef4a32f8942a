"""Throwaway PostgreSQL and Redis servers for the test suite and the benchmarks.

Each server lives in its own temporary directory on a free port of 127.0.0.1, is tuned for
speed rather than durability (no fsync, no persistence) and is removed on `stop()`. `stop()`
is also registered with `atexit`, so a crashed or interrupted test run leaves nothing behind.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = [
    "PostgresServer",
    "free_port",
    "RedisServer",
    "postgres_available",
    "redis_available",
]

_START_ATTEMPTS = 3  # a free port can be taken between picking it and binding it
_PG_USER = "postgres"


def free_port() -> int:
    """A port nobody listens on right now; the OS picks it so parallel runs don't collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env() -> dict[str, str]:
    """The environment without PG* variables, which would otherwise redirect our commands."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def _pid_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie counts as dead (PID 1 here may never reap it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def _make_tempdir(prefix: str) -> Path:
    """A private directory under /tmp that the `postgres` user can traverse (mkdtemp is 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp" if os.path.isdir("/tmp") else None))
    path.chmod(0o755)
    return path


# --------------------------------------------------------------------------- PostgreSQL


def _find_pg_bin() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin with initdb, else the directory of initdb on PATH."""

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True)
    for initdb in candidates:
        if os.access(initdb, os.X_OK):
            return Path(initdb).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(os.path.realpath(on_path)).parent
    return None


def postgres_available() -> str | None:
    """None when a throwaway PostgreSQL can be started here, else why not (for skip messages)."""
    bin_dir = _find_pg_bin()
    if bin_dir is None:
        return "no initdb found: apt-get install postgresql"
    for tool in ("pg_ctl", "postgres", "psql"):
        if not (bin_dir / tool).exists() and not shutil.which(tool):
            return f"no {tool} next to {bin_dir / 'initdb'}: apt-get install postgresql"
    if os.geteuid() == 0:
        # initdb refuses to run as root, so we switch to the `postgres` user.
        try:
            pwd.getpwnam(_PG_USER)
        except KeyError:
            return "running as root but there is no 'postgres' user to run initdb as"
        if not shutil.which("su"):
            return "running as root but `su` is missing, needed to run initdb as 'postgres'"
    return None


class PostgresServer:
    """A disposable PostgreSQL cluster: trust auth, user `postgres`, durability switched off."""

    def __init__(self) -> None:
        self._bin: Path | None = None
        self._dir: Path | None = None
        self._port: int | None = None
        self._running = False

    # -- lifecycle

    def start(self) -> None:
        """initdb + pg_ctl start; raises RuntimeError with the server log when it won't come up."""
        if self._running:
            return
        if reason := postgres_available():
            raise RuntimeError(f"cannot start PostgreSQL: {reason}")
        self._bin = _find_pg_bin()
        self._dir = _make_tempdir("chatcart-pg-")
        atexit.register(self.stop)
        try:
            if os.geteuid() == 0:
                pw = pwd.getpwnam(_PG_USER)
                os.chown(self._dir, pw.pw_uid, pw.pw_gid)
            self._run_pg(
                [self._tool("initdb"), "-D", str(self._dir / "data"), "-U", _PG_USER,
                 "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"],
                what="initdb",
            )
            for attempt in range(_START_ATTEMPTS):
                self._port = free_port()
                try:
                    self._pg_ctl_start()
                    break
                except RuntimeError:
                    in_use = "already in use" in _tail(self._dir / "log")
                    if not in_use or attempt == _START_ATTEMPTS - 1:
                        raise
            self._running = True
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Kill the server at once (-m immediate: its data is thrown away) and delete its files.

        Safe to call twice, or after a failed start.
        """
        with contextlib.suppress(ValueError):
            atexit.unregister(self.stop)
        directory, self._dir = self._dir, None
        self._running = False
        if directory is None:
            return
        data = directory / "data"
        if (data / "postmaster.pid").exists():
            self._dir = directory  # _run_pg needs it as a working directory
            try:
                self._run_pg([self._tool("pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                              "stop"], what="pg_ctl stop", check=False)
            finally:
                self._dir = None
            self._kill_leftover(data)
        shutil.rmtree(directory, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses

    @property
    def port(self) -> int:
        if self._port is None or not self._running:
            raise RuntimeError("PostgreSQL server is not running")
        return self._port

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL for the app's asyncpg driver."""
        return f"postgresql+asyncpg://{_PG_USER}@127.0.0.1:{self.port}/{database}"

    # -- databases

    def create_database(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE (optionally copied from `template`, which must have no connections).

        Runs psql in a subprocess rather than asyncpg, so it works from sync fixtures and from
        inside a running event loop alike.
        """
        sql = f"CREATE DATABASE {_ident(name)}"
        if template is not None:
            sql += f" TEMPLATE {_ident(template)}"
        self._psql(sql)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE ... WITH (FORCE), ending open sessions; a no-op once the server stopped."""
        if not self._running:
            return
        self._psql(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")

    # -- internals

    def _tool(self, name: str) -> str:
        assert self._bin is not None
        path = self._bin / name
        return str(path) if path.exists() else (shutil.which(name) or name)

    def _pg_ctl_start(self) -> None:
        assert self._dir is not None
        options = (
            f"-p {self._port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        log = self._dir / "log"
        log.unlink(missing_ok=True)  # so a retry reads only its own attempt's errors
        try:
            self._run_pg(
                [self._tool("pg_ctl"), "-D", str(self._dir / "data"), "-l", str(log),
                 "-o", options, "-w", "-t", "60", "start"],
                what="pg_ctl start",
            )
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n--- server log ({log}) ---\n{_tail(log)}") from None

    def _run_pg(self, argv: list[str], *, what: str, check: bool = True) -> None:
        """Run a server-side command, as the `postgres` user when we are root."""
        if os.geteuid() == 0:
            argv = ["su", _PG_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]
        result = subprocess.run(
            argv, cwd=self._dir, env=_clean_env(), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=120,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{what} failed (exit {result.returncode}): {shlex.join(argv)}\n"
                f"{result.stdout}{result.stderr}".rstrip()
            )

    def _kill_leftover(self, data: Path) -> None:
        """Last resort when pg_ctl could not stop the postmaster: SIGKILL it by its pid file."""
        try:
            pid = int((data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        if _pid_alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def _psql(self, sql: str) -> None:
        result = subprocess.run(
            [self._tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", _PG_USER, "-d", "postgres", "-c", sql],
            env=_clean_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {sql}\n{result.stderr.strip()}")


def _ident(name: str) -> str:
    """Quote an SQL identifier, so test code may use any database name safely."""
    if not name or "\0" in name:
        raise ValueError(f"invalid database name: {name!r}")
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------- Redis


def redis_available() -> str | None:
    """None when a throwaway Redis can be started here, else why not (for skip messages)."""
    if not shutil.which("redis-server"):
        return "no redis-server found: apt-get install redis-server"
    return None


class RedisServer:
    """A disposable Redis: no RDB snapshots, no AOF, bound to 127.0.0.1."""

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._port: int | None = None
        self._running = False

    def start(self) -> None:
        """Start redis-server and wait for PING; raises RuntimeError with the log otherwise."""
        if self._running:
            return
        if reason := redis_available():
            raise RuntimeError(f"cannot start Redis: {reason}")
        self._dir = _make_tempdir("chatcart-redis-")
        atexit.register(self.stop)
        try:
            for attempt in range(_START_ATTEMPTS):
                self._port = free_port()
                try:
                    self._start_once()
                    break
                except RuntimeError:
                    in_use = "already in use" in _tail(self._dir / "log")
                    self._kill(self._pid(), grace=0)
                    if not in_use or attempt == _START_ATTEMPTS - 1:
                        raise
            self._running = True
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """SHUTDOWN NOSAVE (kill by pid file if that fails) and delete its files; idempotent."""
        with contextlib.suppress(ValueError):
            atexit.unregister(self.stop)
        self._running = False
        if self._dir is None:
            return
        pid = self._pid()
        if pid is not None and _pid_alive(pid) and shutil.which("redis-cli"):
            subprocess.run(
                ["redis-cli", "-h", "127.0.0.1", "-p", str(self._port), "shutdown", "nosave"],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=10, check=False,
            )
        self._kill(pid)  # redis deletes its pid file on exit, hence the pid read above
        shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None or not self._running:
            raise RuntimeError("Redis server is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    # -- internals

    def _start_once(self) -> None:
        assert self._dir is not None
        log = self._dir / "log"
        log.unlink(missing_ok=True)  # so a retry reads only its own attempt's pid and errors
        result = subprocess.run(
            ["redis-server", "--port", str(self._port), "--bind", "127.0.0.1",
             "--daemonize", "yes", "--save", "", "--appendonly", "no",
             "--pidfile", str(self._dir / "redis.pid"), "--dir", str(self._dir),
             "--logfile", str(log)],
            cwd=self._dir, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"redis-server failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n--- log ---\n{_tail(log)}".rstrip()
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._ping():
                return
            pid = self._pid() or self._pid_from_log(log)
            if pid is not None and not _pid_alive(pid):
                break  # it started and died (e.g. port taken): no point waiting
            time.sleep(0.05)
        raise RuntimeError(
            f"redis-server on port {self._port} did not answer PING\n"
            f"--- server log ({log}) ---\n{_tail(log)}"
        )

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self._port or 0), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    @staticmethod
    def _pid_from_log(log: Path) -> int | None:
        """The daemon's pid as logged at boot; it writes the pid file only once it listens."""
        match = re.search(r"\bpid=(\d+)", _tail(log, lines=50))
        return int(match.group(1)) if match else None

    def _pid(self) -> int | None:
        if self._dir is None:
            return None
        try:
            return int((self._dir / "redis.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _kill(pid: int | None, grace: float = 5) -> None:
        """Give `pid` `grace` seconds to exit, then SIGTERM, then SIGKILL."""
        if pid is None:
            return
        for sig, wait in ((None, grace), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            if sig is not None:
                with contextlib.suppress(OSError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if not _pid_alive(pid):
                    return
                time.sleep(0.02)
