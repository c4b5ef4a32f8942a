"""A real Rasa server for tests: trained on Chatcart's exported data, served on loopback.

Rasa lives in its own Python 3.10 environment (`rasa/rasa.sh env`, made by
`make test-rasa`); these helpers only start its `rasa` command.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
RASA_VENV = Path(os.environ.get("RASA_VENV", str(ROOT / ".rasa-venv")))
RASA = RASA_VENV / "bin" / "rasa"
ENV = {"PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false", "HOME": "/tmp",
       "TF_CPP_MIN_LOG_LEVEL": "2"}


def missing() -> str | None:
    """Why no Rasa can run here; None when it can."""
    if RASA.exists():
        return None
    return (f"no Rasa environment at {RASA_VENV}: `make test-rasa` creates it with Python "
            "3.10, and none was found (install one with pyenv, or set RASA_PYTHON)")


def train(project: Path, log: Path) -> float:
    """Train `project` (config.yml, domain.yml, data/) into project/models; seconds taken."""
    started = time.monotonic()
    with log.open("w") as out:  # its limit is within the tests' 20 minutes
        done = subprocess.run(
            [str(RASA), "train", "nlu", "--config", "config.yml", "--domain", "domain.yml",
             "--nlu", "data", "--out", "models", "--fixed-model-name", "chatcart"],
            cwd=project, stdout=out, stderr=subprocess.STDOUT, env=ENV, timeout=1000)
    if done.returncode != 0 or not list((project / "models").glob("*.tar.gz")):
        raise AssertionError(f"rasa train failed:\n{_tail(log)}")
    return time.monotonic() - started


class RasaServer:
    """`rasa run --enable-api` on a free loopback port, ready once it has loaded the model."""

    def __init__(self, project: Path, log: Path) -> None:
        self.log = log
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [str(RASA), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(self.port),
                 "--model", "models"],
                cwd=project, stdout=out, stderr=subprocess.STDOUT, env=ENV)
        started = time.monotonic()
        try:
            while not self._ready():
                if self.process.poll() is not None:
                    raise AssertionError(f"rasa run ended with {self.process.returncode}:\n"
                                         f"{_tail(log)}")
                if time.monotonic() - started > 300:
                    raise AssertionError(f"rasa run not ready after 300 s:\n{_tail(log)}")
                time.sleep(1)
        except BaseException:  # a failure or an interrupted wait leaves no Rasa behind
            self.stop()
            raise
        self.load_seconds = time.monotonic() - started

    def _ready(self) -> bool:
        try:
            status = httpx.get(f"{self.url}/status", timeout=2)
        except httpx.HTTPError:
            return False
        return status.status_code == 200 and bool(status.json().get("model_file"))

    def pause(self) -> None:
        """Hang it: connections are still accepted, nothing is answered."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
        self.process.wait(30)


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
