"""Behind a proxy, `chatcart serve` counts sign-in failures per real client only when the
proxy is trusted (FORWARDED_ALLOW_IPS, in the environment or .env): otherwise every
client shares the proxy's address, and a forged X-Forwarded-For changes nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import SECRET
from tests.support.servers import free_port

CHATCART = [sys.executable, "-m", "bot"]
PASSWORD = "a long enough secret"


def _env(tmp_path: Path) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    values.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
                  CHATCART_DATA_DIR=str(tmp_path / "data"), CHATCART_SECRET_KEY=SECRET,
                  LOG_LEVEL="WARNING")
    return values


@contextmanager
def _serving(env: dict[str, str], cwd: Path) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(CHATCART + ["serve", "--port", str(port)], env=env, cwd=cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def _sign_in(base: str, email: str, password: str, client_ip: str) -> int:
    """One password attempt by a browser behind the proxy at `client_ip`."""
    with httpx.Client(base_url=base, timeout=10,
                      headers={"X-Forwarded-For": client_ip}) as browser:
        page = browser.get("/admin/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token, page.text
        return browser.post("/admin/login", data={"csrf": token.group(1), "email": email,
                                                  "password": password}).status_code


def test_sign_in_slows_down_the_client_a_trusted_proxy_names_and_only_that_one(tmp_path):
    env = _env(tmp_path)
    made = subprocess.run(CHATCART + ["admin", "create-user", "--email", "boss@example.com",
                                      "--role", "admin", "--password", PASSWORD],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr

    (tmp_path / ".env").write_text("FORWARDED_ALLOW_IPS=127.0.0.1\n")  # the proxy's address
    with _serving(env, tmp_path) as base:
        for n in range(10):
            assert _sign_in(base, f"guess{n}@example.com", "x", "198.51.100.7") == 400
        assert _sign_in(base, "boss@example.com", PASSWORD, "198.51.100.7") == 429
        assert _sign_in(base, "boss@example.com", PASSWORD, "198.51.100.8") == 303

    (tmp_path / ".env").write_text("FORWARDED_ALLOW_IPS=10.9.9.9\n")  # some other proxy
    with _serving(env, tmp_path) as base:
        for n in range(10):  # the header is not believed: all from 127.0.0.1
            assert _sign_in(base, f"other{n}@example.com", "x", f"198.51.100.{n + 20}") == 400
        assert _sign_in(base, "boss@example.com", PASSWORD, "198.51.100.8") == 429


def test_a_bad_trusted_proxy_setting_stops_serve_with_a_clear_message(tmp_path):
    env = _env(tmp_path)
    env["FORWARDED_ALLOW_IPS"] = "127.0.0.1, proxy.internal"
    result = subprocess.run(CHATCART + ["serve", "--port", str(free_port())], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "FORWARDED_ALLOW_IPS: 'proxy.internal' is not an IP address or network" in (
        result.stderr)
    assert "Traceback" not in result.stderr
