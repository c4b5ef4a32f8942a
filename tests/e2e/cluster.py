"""Chatcart's scale-out shape started for real, from the CLI: the serving processes and
the worker of tests/e2e/test_scale_out.py and test_scale_out_support.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]

class Processes:
    """Chatcart processes started from the CLI, their output kept for a failing test."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        # This tree's code, not whichever one the virtualenv's install points at.
        paths = [str(ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        self.env = {**env, "PYTHONPATH": os.pathsep.join(paths)}
        self.folder, self.running = folder, []

    def start(self, name: str, *args: str) -> None:
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 - closed in stop()
        process = subprocess.Popen([sys.executable, "-m", "bot", *args], env=self.env,
                                   cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)
        self.running.append((name, process, log))

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n" + (self.folder / f"{name}.log").read_text()[-3000:]
                         for name, _, _ in self.running)

    def stop(self) -> None:
        for _, process, _ in self.running:
            process.terminate()
        for _, process, log in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


def wait_healthy(bases: list[str], processes: Processes, seconds: float = 90) -> None:
    """Until each process at `bases` answers /healthz with 200."""
    deadline = time.monotonic() + seconds
    for base in bases:
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, processes.logs()
            time.sleep(0.2)
