"""A throwaway localstripe server (a stateful fake of Stripe's API) on a free port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def localstripe_command() -> str | None:
    found = Path(sys.executable).with_name("localstripe")
    return str(found) if found.exists() else shutil.which("localstripe")


class LocalStripe:
    def __init__(self) -> None:
        command = localstripe_command()
        assert command, "localstripe is not installed (pip install localstripe)"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process = subprocess.Popen(
            [command, "--port", str(self.port), "--from-scratch"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{self.url}/v1/customers", auth=("sk_test_x", ""), timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    self.stop()
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.2)

    def payment_intent(self, amount: int, currency: str, manual: bool) -> str:
        """A PaymentIntent paid with Stripe's test card, as a Checkout Session would leave it."""
        response = httpx.post(f"{self.url}/v1/payment_intents", auth=("sk_test_x", ""), data={
            "amount": amount, "currency": currency, "payment_method": "pm_card_visa",
            "confirm": "true", "capture_method": "manual" if manual else "automatic"})
        response.raise_for_status()
        return str(response.json()["id"])

    def get(self, path: str) -> dict[str, object]:
        response = httpx.get(f"{self.url}/v1/{path}", auth=("sk_test_x", ""))
        response.raise_for_status()
        return dict(response.json())

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
