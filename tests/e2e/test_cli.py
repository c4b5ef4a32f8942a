"""The `chatcart` command as an operator uses it: real processes, real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from core.migrate import head_revision
from tests.conftest import SECRET
from tests.e2e.checkout_steps import buy_with_the_test_gateway
from tests.support.servers import free_port

CHATCART = [sys.executable, "-m", "bot"]


def run(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None,
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(CHATCART + args, env=env, cwd=cwd, input=stdin, text=True,
                          capture_output=True, timeout=120)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    values.update(DATABASE_URL=database_url, CHATCART_DATA_DIR=str(tmp_path / "data"),
                  CHATCART_SECRET_KEY=SECRET)
    return values


@pytest.fixture
def fresh_env(env: dict[str, str], tmp_path: Path, backend: str) -> dict[str, str]:
    """Like `env`, but SQLite starts with no database file at all."""
    if backend == "sqlite":
        env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'shop.db'}"
    return env


def test_help_lists_every_command(tmp_path):
    result = subprocess.run(CHATCART + ["--help"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "demo", "db", "admin", "catalog"):
        assert command in result.stdout
    nested = subprocess.run(CHATCART + ["catalog", "--help"], capture_output=True, text=True)
    assert "import" in nested.stdout


def test_db_upgrade_creates_the_schema_and_is_repeatable(fresh_env, tmp_path):
    first = run(["db", "upgrade"], fresh_env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"revision {head_revision()}." in first.stdout
    assert run(["db", "upgrade"], fresh_env, tmp_path).returncode == 0


def test_a_bad_setting_stops_the_command_with_a_clear_message(env, tmp_path):
    env["DATABASE_URL"] = "mysql://root@localhost/shop"
    result = run(["db", "upgrade"], env, tmp_path)
    assert result.returncode == 2
    assert "DATABASE_URL: unsupported database 'mysql'" in result.stderr
    assert "Traceback" not in result.stderr


def test_staff_accounts_are_created_from_the_command_line(env, tmp_path):
    made = run(["admin", "create-user", "--email", "Boss@Example.com", "--role", "admin",
                "--password", "a long enough secret"], env, tmp_path)
    assert made.returncode == 0, made.stderr
    assert "Created admin boss@example.com" in made.stdout
    again = run(["admin", "create-user", "--email", "boss@example.com", "--role", "support",
                 "--password", "a long enough secret"], env, tmp_path)
    assert again.returncode == 1
    assert "already exists" in again.stderr and "Traceback" not in again.stderr
    generated = run(["admin", "create-user", "--email", "help@example.com", "--role",
                     "support"], env, tmp_path, stdin="")
    assert generated.returncode == 0, generated.stderr
    assert "Generated password (shown once): " in generated.stdout
    wrong_role = run(["admin", "create-user", "--email", "x@example.com", "--role",
                      "customer", "--password", "a long enough secret"], env, tmp_path)
    assert wrong_role.returncode == 2 and "admin or support" in wrong_role.stderr


def test_a_broken_catalog_file_imports_nothing_and_names_every_bad_line(env, tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "sku,name,category,price,stock\n"
        "MUG-1,Blue mug,Kitchen > Mugs,12.50,10\n"
        "MUG-2,,Kitchen > Mugs,12.50,10\n"
        "MUG-3,Red mug,Kitchen > Mugs,12.505,10\n"
        "MUG-1,Blue mug again,Kitchen > Mugs,9.00,-2\n")
    result = run(["catalog", "import", str(broken)], env, tmp_path)
    assert result.returncode == 1
    assert "Nothing was imported: 4 problem(s)." in result.stderr
    assert "line 3: name is required" in result.stderr
    assert "line 4: price: '12.505' has more than 2 decimal places for EUR" in result.stderr
    assert "line 5: stock cannot be negative" in result.stderr
    assert "line 5: sku MUG-1 is also on line 2" in result.stderr
    good = tmp_path / "good.csv"
    good.write_text("sku,name,category,price,stock\nMUG-9,Green mug,Kitchen > Mugs,8.00,3\n")
    imported = run(["catalog", "import", str(good)], env, tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "Imported 1 products: 1 created, 0 updated." in imported.stdout


def test_demo_fills_a_shop_prints_the_login_and_serves_health(fresh_env, tmp_path):
    filled = run(["demo", "--no-serve"], fresh_env, tmp_path)
    assert filled.returncode == 0, filled.stderr
    assert "(just imported)" in filled.stdout
    count = int(filled.stdout.split("Demo shop ready: ")[1].split(" ")[0])
    assert count >= 40
    login = filled.stdout.split("Admin login: ")[1].strip()
    email, password = login.split(" / ")
    assert email == "admin@example.com" and len(password) >= 12
    again = run(["demo", "--no-serve"], fresh_env, tmp_path)
    assert f"Demo shop ready: {count} products" in again.stdout
    assert "(just imported)" not in again.stdout
    assert f"Admin login: {email} / {password}" in again.stdout

    port = free_port()
    server = subprocess.Popen(CHATCART + ["serve", "--port", str(port)], env=fresh_env,
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        body = response.json()
        assert response.status_code == 200, body
        assert body["database"]["ok"] and body["database"]["products"] == count
        assert body["redis"] == {"configured": False, "ok": True}
        media = sorted((tmp_path / "data" / "media").rglob("*.png"))
        assert len(media) >= 40
        key = media[0].relative_to(tmp_path / "data" / "media").as_posix()
        image = httpx.get(f"http://127.0.0.1:{port}/media/{key}", timeout=5)
        assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
        assert json.dumps(body).find(SECRET) == -1
        buy_with_the_test_gateway(f"http://127.0.0.1:{port}")

        # A shutdown does not wait for a browser's open poll: it is answered at once.
        token = httpx.post(f"http://127.0.0.1:{port}/webchat/api/messages", timeout=10,
                           json={"text": "hello"}).json()["session"]
        with ThreadPoolExecutor(1) as background:
            waiting = background.submit(httpx.get, f"http://127.0.0.1:{port}/webchat/api/"
                                        "messages?wait=25", timeout=30,
                                        headers={"X-Chat-Session": token})
            time.sleep(1.0)
            assert not waiting.done()
            stopping = time.monotonic()
            server.terminate()
            # uvicorn ends by raising the signal it caught again, once it has shut down
            assert server.wait(timeout=10) in (0, -signal.SIGTERM)
            assert time.monotonic() - stopping < 4, "the open poll held the shutdown up"
            answer = waiting.result(timeout=5)
        assert answer.status_code == 200 and answer.json() == {"replies": []}
        assert "Traceback" not in (server.stdout.read() if server.stdout else "")
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)
