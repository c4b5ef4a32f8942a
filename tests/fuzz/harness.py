"""The fuzz harness: requests drawn from the app's own /openapi.json by schemathesis (data
that fits the schema and data that does not), each followed by hostile mutations of it
(truncated, garbled, deeply nested, lone surrogates, oversized, odd content types,
junk signature headers, and a copy signed with the test secrets), sent to the app in
this process or to a real `chatcart serve`. It counts what a probe would: requests,
statuses, 5xx, hangs (no answer within the per-request timeout) and tracebacks logged.

Drawing from schemathesis is the slow part (about 30 cases a second for data that
does not fit); the mutations are cheap, so most requests are mutations of drawn cases.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from tests.support.everything_on import (
    SLACK_SIGNING_SECRET,
    STRIPE_WEBHOOK_SECRET,
    TELEGRAM_SECRET,
)

TIMEOUT = 10.0   # seconds: longer than any legitimate answer (polls are held at most 1 s here)
HOSTILE_BODIES = [b"null", b"{broken", b"\xff\xfe\xfd", b"payload=1", b"[" * 5000,
                  b"[" * 5000 + b"]" * 5000, b'{"text": "hi \\ud800"}', b"NaN",
                  b'{"text": 1e999999}', b'{"update_id": 99999999999999999999999}',
                  b'{"session": "' + b"a" * 200 + b'", "text": "x"}', b"", b" " * 20000]
SIGNED_PATHS = ("/telegram/webhook", "/slack/events", "/payments/stripe/webhook")


@dataclass
class Tally:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    hangs: int = 0
    retried: int = 0          # sent again after a transport error on a kept-alive connection
    failures: list[str] = field(default_factory=list)   # a line for each 5xx or hang

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def record(self, request: httpx.Request, status: int | None, note: str = "") -> None:
        self.sent += 1
        if status is None:
            self.hangs += 1
        else:
            self.statuses[status] += 1
        if status is None or status >= 500:
            if len(self.failures) < 50:
                self.failures.append(f"{status or 'hang'} {request.method} {request.url} "
                                     f"{note} headers={request.headers.raw!r:.300} "
                                     f"body={request.content[:160]!r} "
                                     f"({len(request.content)} bytes)")

    def report(self, seconds: float, tracebacks: int) -> str:
        counts = ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items()))
        return (f"requests sent: {self.sent} in {seconds:.0f} s ({self.sent / seconds:.0f}/s)\n"
                f"statuses seen: {counts}\n5xx: {self.server_errors}\nhangs: {self.hangs}\n"
                f"sent again after a transport error: {self.retried}\n"
                f"tracebacks logged: {tracebacks}")


def draw(schema: dict[str, Any], mode: GenerationMode, count: int) -> list[httpx.Request]:
    """`count` requests schemathesis draws from `schema` (blocking: run it in a thread)."""
    loaded = schemathesis.openapi.from_dict(schema)
    drawn: list[httpx.Request] = []

    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=loaded.as_strategy(generation_mode=mode))
    def collect(case: Any) -> None:
        try:
            drawn.append(_request(case.as_transport_kwargs(base_url="http://fuzz")))
        except (ValueError, TypeError, UnicodeError):
            pass  # a case no HTTP client can send (a header with a newline)

    collect()
    return drawn


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")


def _request(kwargs: dict[str, Any]) -> httpx.Request:
    headers = [(_bytes(k), _bytes(v)) for k, v in kwargs.get("headers", {}).items()
               if str(k).lower() not in ("content-length", "host", "transfer-encoding")]
    if kwargs.get("cookies"):
        headers.append((b"cookie", _bytes("; ".join(f"{k}={v}" for k, v in
                                                    kwargs["cookies"].items()))))
    params = dict(kwargs.get("params") or {})
    if kwargs["url"].endswith("/webchat/api/messages") and isinstance(params.get("wait"),
                                                                      int | float):
        params["wait"] = min(params["wait"], 1)  # the poll holds up to 25 s by design
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["content"] = json.dumps(kwargs["json"], allow_nan=True).encode(
            "utf-8", "surrogatepass")
    elif isinstance(kwargs.get("data"), dict):
        body["data"] = kwargs["data"]
    elif "data" in kwargs:
        body["content"] = _bytes(kwargs["data"])
    return httpx.Request(kwargs["method"], kwargs["url"], params=params, headers=headers,
                         **body)


def _with(request: httpx.Request, body: bytes | None = None,
          headers: dict[str, bytes] | None = None) -> httpx.Request:
    changed = {k.lower().encode() for k in (headers or {})} | {b"content-length"}
    kept = [(k, v) for k, v in request.headers.raw if k.lower() not in changed]
    kept += [(k.encode(), v) for k, v in (headers or {}).items()]
    return httpx.Request(request.method, request.url, headers=kept,
                         content=request.content if body is None else body)


def sign(request: httpx.Request) -> httpx.Request | None:
    """A copy that passes the route's signature check (we hold the test secrets)."""
    path, body = request.url.path, request.content
    if path == "/telegram/webhook":
        return _with(request, headers={"X-Telegram-Bot-Api-Secret-Token":
                                       TELEGRAM_SECRET.encode()})
    stamp = str(int(time.time()))
    if path == "/slack/events":
        digest = hmac.new(SLACK_SIGNING_SECRET.encode(), f"v0:{stamp}:".encode() + body,
                          hashlib.sha256).hexdigest()
        return _with(request, headers={"X-Slack-Request-Timestamp": stamp.encode(),
                                       "X-Slack-Signature": f"v0={digest}".encode()})
    if path == "/payments/stripe/webhook":
        digest = hmac.new(STRIPE_WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + body,
                          hashlib.sha256).hexdigest()
        return _with(request, headers={"Stripe-Signature": f"t={stamp},v1={digest}".encode()})
    return None


def mutations(request: httpx.Request, rng: random.Random, count: int) -> Iterator[httpx.Request]:
    """Hostile variants of a drawn request."""
    body = request.content
    makers: list[Callable[[], httpx.Request | None]] = [
        lambda: _with(request, body[:rng.randrange(len(body) + 1)]),
        lambda: _with(request, _flip(body, rng)),
        lambda: _with(request, rng.choice(HOSTILE_BODIES)),
        lambda: _with(request, b"[" * rng.randrange(30, 6000) + body),
        lambda: _with(request, body.replace(b'"', b'"\\ud800', 1)),
        lambda: _with(request, body * rng.randrange(2, 60)),
        lambda: _with(request, headers={"Content-Type": rng.choice(
            [b"application/json", b"application/x-www-form-urlencoded", b"text/plain",
             b"multipart/form-data; boundary=x", b"application/json; charset=latin-1"])}),
        lambda: _with(request, headers={rng.choice(
            ["X-Slack-Request-Timestamp", "X-Slack-Signature", "Stripe-Signature",
             "X-Telegram-Bot-Api-Secret-Token", "PAYPAL-TRANSMISSION-TIME",
             "PAYPAL-CERT-URL", "X-Chat-Session", "Cookie"]): rng.choice(
            [b"abc", b"", b"\xff\xfe", b"9" * 30, b"v0=" + b"0" * 64, b"t=1,v1=00",
             b"https://api.paypal.com/x", b"2026-12-03T09:00:00Z", b"-1", b"nan"])}),
        lambda: sign(_with(request, rng.choice(HOSTILE_BODIES + [body, _flip(body, rng)])))
        if request.url.path in SIGNED_PATHS else None,
    ]
    for _ in range(count):
        made = rng.choice(makers)()
        if made is not None:
            yield made


def _flip(body: bytes, rng: random.Random) -> bytes:
    if not body:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20)))
    data = bytearray(body)
    for _ in range(rng.randrange(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


class LoggedFailures(logging.Handler):
    """Records logged with a traceback or at ERROR, in this process."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.records.append(f"{record.name} {record.getMessage()[:200]}")


async def campaign(client: httpx.AsyncClient, schema: dict[str, Any], seconds: float,
                   max_requests: int | None = None, per_case: int = 3, seed: int = 0,
                   progress: Callable[[Tally], Awaitable[None]] | None = None) -> Tally:
    """Draw, mutate and send until `seconds` have passed (or `max_requests` were sent)."""
    tally = Tally()
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    round_ = 0
    next_batch = asyncio.create_task(asyncio.to_thread(draw, schema, modes[0], 60))
    while time.monotonic() < deadline and (max_requests is None or tally.sent < max_requests):
        batch = await next_batch
        round_ += 1
        next_batch = asyncio.create_task(asyncio.to_thread(
            draw, schema, modes[round_ % 2], 60))
        for drawn in batch:
            for request in [drawn, *mutations(drawn, rng, per_case)]:
                if time.monotonic() >= deadline or (max_requests and tally.sent >= max_requests):
                    break
                await _send(client, request, tally)
        if progress is not None:
            await progress(tally)
    next_batch.cancel()
    return tally


async def _send(client: httpx.AsyncClient, request: httpx.Request, tally: Tally) -> None:
    request.url = client.base_url.join(request.url.raw_path.decode("ascii"))
    for attempt in (1, 2):
        try:
            response = await asyncio.wait_for(client.send(request), TIMEOUT)
        except TimeoutError:
            tally.record(request, None)
            return
        except httpx.TransportError as problem:
            # Once more on a new connection: a kept-alive one the server closed after its
            # idle timeout (while the next batch was drawn) fails the same way. Twice is
            # the server's doing, as bad as a 500.
            if attempt == 2:
                tally.record(request, 599, type(problem).__name__)
                return
            tally.retried += 1
            continue
        tally.record(request, response.status_code)
        return
