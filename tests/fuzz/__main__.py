"""`make fuzz`: the long campaign (10 minutes unless told), against a real `chatcart demo`
server with every channel and gateway on (the platforms are the test doubles, run
here), or against the app in this process (`--in-process`). Prints requests sent,
statuses seen, the 5xx count, hangs and tracebacks logged; exits 1 if any.

    python -m tests.fuzz [--minutes 10] [--in-process] [--per-case 3]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from tests.fuzz.harness import LoggedFailures, Tally, campaign
from tests.support.everything_on import doubles, everything_on
from tests.support.servers import free_port


def _reporter(started: float) -> Callable[[Tally], Awaitable[None]]:
    """Prints a line of progress every 30 seconds."""
    last = [started]

    async def progress(tally: Tally) -> None:
        now = time.monotonic()
        if now - last[0] >= 30:
            last[0] = now
            print(f"  {now - started:5.0f} s: {tally.sent} sent, {tally.server_errors} 5xx, "
                  f"{tally.hangs} hangs", flush=True)

    return progress


async def served(folder: Path, seconds: float, per_case: int) -> tuple[Tally, int, float]:
    """A `chatcart demo` process with everything on; its log is kept in `folder`."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with doubles() as platforms:
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG",
                                                           "PYTHONPATH")}
        env.update(platforms.environment(base), DATABASE_URL=f"sqlite+aiosqlite:///"
                   f"{folder}/shop.db", CHATCART_DATA_DIR=str(folder / "data"),
                   LOG_LEVEL="INFO")
        log_path = folder / "server.log"
        server = _start(env, folder, port, log_path)
        try:
            async with httpx.AsyncClient(base_url=base) as client:
                await _wait_healthy(client, server, log_path)
                schema = (await client.get("/openapi.json")).json()
                print(f"fuzzing chatcart serve at {base} for {seconds:.0f} s "
                      f"(log: {log_path})", flush=True)
                started = time.monotonic()
                tally = await campaign(client, schema, seconds, per_case=per_case,
                                       progress=_reporter(started))
                elapsed = time.monotonic() - started
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
    kept = Path(tempfile.gettempdir()) / "chatcart-fuzz-server.log"
    shutil.copyfile(log_path, kept)
    print(f"the server's log is kept in {kept}")
    return tally, _failures_logged(log_path), elapsed


def _start(env: dict[str, str], folder: Path, port: int, log_path: Path
           ) -> subprocess.Popen[Any]:
    with open(log_path, "w") as log:
        return subprocess.Popen([sys.executable, "-m", "bot", "demo", "--port", str(port)],
                                env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)


def _failures_logged(log_path: Path) -> int:
    """Tracebacks and ERROR lines in the server's log; the first few are printed."""
    lines = log_path.read_text(errors="replace").splitlines()
    failed = [n for n, line in enumerate(lines)
              if line.startswith("Traceback") or " ERROR " in line]
    for n in failed[:3]:
        print("\n".join(lines[max(0, n - 2):n + 25]))
    return len(failed)


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:]


async def _wait_healthy(client: httpx.AsyncClient, server: subprocess.Popen[Any],
                        log_path: Path) -> None:
    deadline = time.monotonic() + 180
    while True:
        try:
            if (await client.get("/healthz", timeout=2)).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the server did not start:\n" + _tail(log_path))
        await asyncio.sleep(0.5)


async def in_process(folder: Path, seconds: float, per_case: int) -> tuple[Tally, int, float]:
    from bot.nlu.embedded import build_embedded
    from core.db import create_engine
    from core.migrate import upgrade

    url = f"sqlite+aiosqlite:///{folder}/shop.db"
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    nlu = build_embedded(folder / "nlu.joblib")
    logged = LoggedFailures()
    logging.getLogger().addHandler(logged)
    logging.getLogger().setLevel(logging.WARNING)
    async with everything_on(url, folder / "data", nlu) as shop_on:
        schema = (await shop_on.http.get("/openapi.json")).json()
        transport = httpx.ASGITransport(app=shop_on.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://fuzz") as client:
            print(f"fuzzing the app in this process for {seconds:.0f} s", flush=True)
            started = time.monotonic()
            tally = await campaign(client, schema, seconds, per_case=per_case,
                                   progress=_reporter(started))
            elapsed = time.monotonic() - started
    return tally, len(logged.records), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--minutes", type=float,
                        default=float(os.environ.get("FUZZ_MINUTES", "10")))
    parser.add_argument("--in-process", action="store_true",
                        help="fuzz the app in this process instead of a chatcart server")
    parser.add_argument("--per-case", type=int, default=3,
                        help="hostile mutations sent after each drawn request")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chatcart-fuzz-") as temporary:
        run = in_process if options.in_process else served
        tally, tracebacks, elapsed = asyncio.run(run(Path(temporary), options.minutes * 60,
                                                     options.per_case))
    print(tally.report(elapsed, tracebacks))
    for failure in tally.failures[:20]:
        print("  " + failure)
    sys.exit(1 if tally.server_errors or tally.hangs or tracebacks else 0)


if __name__ == "__main__":
    main()
