"""`RASA_URL=... chatcart serve`: the command an operator runs, Rasa classifying."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import SECRET
from tests.support.servers import free_port

CHATCART = [sys.executable, "-m", "bot"]


def test_the_served_shop_asks_rasa_and_says_so_on_healthz(rasa_server, tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin", "CHATCART_DATA_DIR": str(tmp_path / "data"),
           "CHATCART_SECRET_KEY": SECRET, "RASA_URL": rasa_server.url,
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"}
    filled = subprocess.run(CHATCART + ["demo", "--no-serve"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert filled.returncode == 0, filled.stderr
    port = free_port()
    server = subprocess.Popen(CHATCART + ["serve", "--port", str(port)], env=env,
                              cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{url}/healthz", timeout=2).json()
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert health["nlu"]["backend"] == "rasa" and health["nlu"]["answered"] == 0

        session: dict[str, str] = {}  # the token, once the server issued it

        def say(text: str) -> str:
            response = httpx.post(f"{url}/webchat/api/messages", timeout=10,
                                  json={**session, "text": text})
            assert response.status_code == 200, response.text
            session["session"] = response.json()["session"]
            return "\n".join(reply["text"] for reply in response.json()["replies"])

        assert "Glass teapot" in say("show me the teapots")
        assert "Added 1 × Glass teapot." in say("add the glass teapot")
        assert "didn't understand" in say("asdf qwer")
        nlu = httpx.get(f"{url}/healthz", timeout=2).json()["nlu"]
        assert (nlu["rasa_answering"], nlu["answered"], nlu["fallbacks"]) == (True, 3, 0)
    finally:
        server.terminate()
        server.wait(30)
