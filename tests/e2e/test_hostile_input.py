"""What an outside probe of a live server sent, by hand, one test per finding of issue 16:
no 5xx for anything from outside, bodies refused before they are buffered, log lines
that cannot be forged or flooded, security headers, PayPal's cheap checks and the
published OpenAPI. The shop has every channel and gateway on, each platform a double.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import logs
from tests.conftest import new_database_url
from tests.e2e.platforms import slack_signature
from tests.support.everything_on import (
    SLACK_SIGNING_SECRET,
    STRIPE_WEBHOOK_SECRET,
    TELEGRAM_SECRET,
    Everything,
    everything_on,
)
from tests.support.paypal_double import FakePayPal
from tests.support.servers import free_port
from tests.support.stripe_double import FakeStripe

DEEP = b"[" * 5000  # 10 KB with the closing half: RecursionError in json.loads
POSTS = ["/webchat/api/messages", "/nlu/parse", "/telegram/webhook", "/slack/events",
         "/payments/stripe/webhook", "/payments/paypal/webhook"]


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return new_database_url(request, "sqlite", tmp_path)


@pytest.fixture
async def shop_on(sqlite_url: str, tmp_path: Path, trained) -> AsyncIterator[Everything]:
    async with everything_on(sqlite_url, tmp_path / "data", trained) as everything:
        yield everything


class LogLines(logging.Handler):
    """The lines `chatcart serve` would print, as its formatter writes them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logs.KeyValueFormatter())
        self.lines: list[str] = []
        self.failures: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.extend(self.format(record).split("\n"))
        if record.exc_info or record.levelno >= logging.ERROR:
            self.failures.append(record)


@pytest.fixture
def log_lines() -> AsyncIterator[LogLines]:
    handler = LogLines()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler  # type: ignore[misc]
    root.removeHandler(handler)
    root.setLevel(old)


def slack_headers(body: bytes, secret: str = SLACK_SIGNING_SECRET,
                  kind: str = "application/json") -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"Content-Type": kind, "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": slack_signature(secret, body, stamp)}


def stripe_headers(body: bytes) -> dict[str, str]:
    stamp = int(time.time())
    signature = hmac.new(STRIPE_WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + body,
                         hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={signature}", "Content-Type": "application/json"}


def paypal_headers(**changes: str) -> dict[str, str]:
    _, headers = FakePayPal.webhook("CHECKOUT.ORDER.APPROVED", {"id": "X"}, signature="forged")
    return {**headers, **changes}


def signed_headers(path: str, body: bytes) -> dict[str, str]:
    """What lets a body past each route's signature check (where we hold the secret)."""
    if path == "/telegram/webhook":
        return {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    if path == "/slack/events":
        return slack_headers(body)
    if path == "/payments/stripe/webhook":
        return stripe_headers(body)
    if path == "/payments/paypal/webhook":
        return paypal_headers()
    return {"Content-Type": "application/json"}


async def test_unsigned_malformed_slack_requests_are_refused_not_errors(shop_on, log_lines):
    stamp = str(int(time.time()))
    cases = [(b"null", {}), (b"{broken", {}), (b"\xff\xfe\xfd", {}),
             (b"\xff\xfe\xfd", {"X-Slack-Request-Timestamp": stamp}),
             (b"payload=1", {"Content-Type": "application/x-www-form-urlencoded"}),
             (b'{"type": "event_callback"}', {"X-Slack-Request-Timestamp": "abc"}),
             (b'{"type": "event_callback"}', {"X-Slack-Request-Timestamp": stamp,
                                              "X-Slack-Signature": "v0=\u00e9".encode("latin-1")}),
             (b'{"type": "url_verification", "challenge": "x"}',
              {"X-Slack-Request-Timestamp": str(int(time.time()) - 600),
               "X-Slack-Signature": slack_signature(SLACK_SIGNING_SECRET, b"", stamp)})]
    for body, headers in cases:
        response = await shop_on.http.post("/slack/events", content=body, headers={
            "X-Slack-Signature": "v0=" + "0" * 64, **headers})
        assert response.status_code == 401, (body, headers, response.status_code)
    assert not log_lines.failures
    assert not shop_on.doubles.slack.calls, "nothing was acted on"


async def test_five_thousand_nested_brackets_are_refused_on_every_route(shop_on, log_lines):
    for path in POSTS:
        for body in (DEEP, DEEP + b"]" * 5000, b'{"text": ' + DEEP + b"}"):
            response = await shop_on.http.post(path, content=body,
                                               headers=signed_headers(path, body))
            assert 400 <= response.status_code < 500, (path, response.status_code)
    assert not log_lines.failures
    assert not shop_on.doubles.paypal.of("v1/notifications/verify-webhook-signature")


async def test_a_lone_surrogate_gets_a_400_not_a_failure_to_encode_the_answer(shop_on):
    for path in ("/nlu/parse", "/webchat/api/messages"):
        response = await shop_on.http.post(path, content=b'{"text": "hi \\ud800"}',
                                           headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and "surrogate" in response.json()["error"]
    fine = await shop_on.http.post("/nlu/parse", json={"text": "hi \U0001f600"})
    assert fine.status_code == 200 and fine.json()["text"] == "hi \U0001f600"


async def test_a_forged_paypal_webhook_while_paypal_is_unreachable_is_refused(
        sqlite_url, tmp_path, trained, log_lines):
    unreachable = f"http://127.0.0.1:{free_port()}"
    async with everything_on(sqlite_url, tmp_path / "data", trained,
                             PAYPAL_API_BASE=unreachable) as shop_on:
        body, headers = FakePayPal.webhook("CHECKOUT.ORDER.APPROVED", {"id": "5O19"},
                                           signature="forged")
        response = await shop_on.http.post("/payments/paypal/webhook", content=body,
                                           headers=headers)
        assert response.status_code == 400
    assert not log_lines.failures
    assert any("could not be asked to verify" in line for line in log_lines.lines)


async def test_signed_but_odd_payloads_are_refused_or_dropped_not_failed(shop_on, log_lines):
    http, slack = shop_on.http, shop_on.doubles.slack
    nested = b'{"update_id": 5, "message": ' + b'{"a": ' * 40 + b"1" + b"}" * 41
    for body in (nested, b'{"update_id": 5, "message": ' + DEEP + b"}"):
        response = await http.post("/telegram/webhook", content=body,
                                   headers=signed_headers("/telegram/webhook", body))
        assert response.status_code == 400, body[:60]
    for data in ("a string", {"object": "checkout.session", "metadata": {"payment": "1"}},
                 {"id": 12, "metadata": {"payment": "1"}}):
        body, headers = FakeStripe.signed(STRIPE_WEBHOOK_SECRET, "checkout.session.completed",
                                          {} if isinstance(data, str) else data)
        if isinstance(data, str):
            body = body.replace(b'"object": {}', b'"object": "a string"')
            headers = stripe_headers(body)
        response = await http.post("/payments/stripe/webhook", content=body, headers=headers)
        assert response.status_code == 400, data
    no_channel = {"type": "event_callback", "team_id": "T0SHOP", "event_id": "Ev0001",
                  "event": {"type": "message", "user": "U0ANN", "text": "hi",
                            "channel_type": "im", "ts": "1.0"}}
    for odd in ({**no_channel, "enterprise": True}, {**no_channel, "event": {
            "type": "message", "channel": -2.47e16, "text": "hi", "channel_type": "im"}},
                {**no_channel, "authorizations": [7]}, {**no_channel, "user": 5},
                {**no_channel, "event": 1.5}):
        body = json.dumps(odd).encode()
        response = await http.post("/slack/events", content=body, headers=slack_headers(body))
        assert response.status_code == 400, odd
    body = json.dumps(no_channel).encode()
    response = await http.post("/slack/events", content=body, headers=slack_headers(body))
    assert response.status_code == 200
    assert await shop_on.app.state.slack.turns.idle(5)
    assert await shop_on.app.state.slack.sender.drain(2), "nothing left retrying"
    assert not slack.of("chat.postMessage"), "nothing sent to chat None"
    assert not log_lines.failures


async def test_bodies_are_refused_before_they_are_buffered(shop_on):
    """A 20 MB streamed body is cut off near the cap, and a declared one never read."""
    for path in POSTS:
        pulled = 0

        async def stream() -> AsyncIterator[bytes]:
            nonlocal pulled
            for _ in range(20 * 16):
                pulled += 65536
                yield b" " * 65536

        response = await shop_on.http.post(path, content=stream(),
                                           headers=signed_headers(path, b""))
        assert response.status_code == 413, (path, response.status_code)
        cap = 16_384 if path in ("/webchat/api/messages", "/nlu/parse") else 1_000_000
        assert pulled <= cap + 65536, (path, pulled)

        pulled = 0
        response = await shop_on.http.post(path, content=stream(), headers={
            **signed_headers(path, b""), "Content-Length": str(100_000_000)})
        assert response.status_code == 413 and pulled == 0, (path, pulled)
    small = await shop_on.http.post("/nlu/parse", json={"text": "x" * 17_000})
    assert small.status_code == 413


async def test_a_body_with_newlines_and_a_megabyte_cannot_forge_or_flood_a_log_line(
        shop_on, log_lines):
    forged = "\n2026-12-03T09:00:00 INFO chatcart payment.event outcome=paid\n"
    body = (json.dumps({"text": forged}) + forged + "x" * 1_000_000).encode()[:990_000]
    response = await shop_on.http.post("/slack/events", content=body, headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64})
    assert response.status_code == 401
    assert log_lines.lines, "the refusal is logged"
    assert not [line for line in log_lines.lines if line.startswith("2026-12-03T09:00:00")]
    assert max(len(line) for line in log_lines.lines) < 3000
    assert sum(len(line) for line in log_lines.lines) < 10_000


async def test_every_page_forbids_framing_and_sniffing_and_https_adds_hsts(shop_on, sqlite_url,
                                                                          tmp_path, trained):
    (shop_on.settings.media_dir / "mug.png").write_bytes(b"\x89PNG fake")
    for path in ("/chat", "/chat/chat.js", "/media/mug.png", "/healthz", "/openapi.json",
                 "/admin/login", "/pay/done", "/help", "/help?q=shipping", "/help/help.css"):
        response = await shop_on.http.get(path)
        assert response.status_code < 500, path
        headers = response.headers
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["Strict-Transport-Security"].startswith("max-age="), path
    console = (await shop_on.http.get("/admin/login")).headers["Content-Security-Policy"]
    assert console.startswith("default-src 'self'; img-src 'self' data:; style-src 'self'")
    async with everything_on(sqlite_url, tmp_path / "plain", trained,
                             public_url="http://127.0.0.1:8000") as plain:
        response = await plain.http.get("/chat")
        assert "Strict-Transport-Security" not in response.headers
        assert response.headers["X-Frame-Options"] == "DENY"


async def test_without_smtp_the_server_warns_at_start_that_mail_goes_to_the_log(
        shop_on, sqlite_url, tmp_path, trained, caplog):
    caplog.set_level(logging.WARNING, "chatcart.mail")
    async with everything_on(sqlite_url, tmp_path / "again", trained):
        pass
    assert [r for r in caplog.records if r.name == "chatcart.mail"
            and r.levelno == logging.WARNING and "SMTP_URL is not set" in r.getMessage()]


async def test_paypal_webhooks_that_cannot_be_genuine_cost_no_call_to_paypal(shop_on):
    paypal, http = shop_on.doubles.paypal, shop_on.http
    body, _ = FakePayPal.webhook("CHECKOUT.ORDER.APPROVED", {"id": "5O19"}, signature="forged")
    implausible = [{"PAYPAL-AUTH-ALGO": "none"},
                   {"PAYPAL-CERT-URL": "https://evil.example/certs/CERT-1"},
                   {"PAYPAL-CERT-URL": "http://api.paypal.com/v1/notifications/certs/C"},
                   {"PAYPAL-CERT-URL": "https://paypal.com.evil.example/c"},
                   {"PAYPAL-TRANSMISSION-TIME": "2020-01-01T00:00:00Z"},
                   {"PAYPAL-TRANSMISSION-TIME": "yesterday"}]
    for change in implausible:
        response = await http.post("/payments/paypal/webhook", content=body,
                                   headers=paypal_headers(**change))
        assert response.status_code == 400, change
    assert not paypal.of("v1/notifications/verify-webhook-signature")
    statuses = [(await http.post("/payments/paypal/webhook", content=body,
                                 headers=paypal_headers())).status_code for _ in range(65)]
    assert statuses[:60] == [400] * 60 and set(statuses[60:]) == {429}
    assert len(paypal.of("v1/notifications/verify-webhook-signature")) == 60


async def test_the_openapi_document_describes_the_chat_nlu_and_webhook_bodies(shop_on):
    response = await shop_on.http.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in POSTS:
        assert paths[path]["post"]["requestBody"]["content"], path
    post = paths["/webchat/api/messages"]["post"]
    message = post["requestBody"]["content"]["application/json"]["schema"]
    assert "session" in message["properties"] and "session" not in message.get("required", [])
    answer = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"session", "replies"} <= set(answer["properties"])
    poll = paths["/webchat/api/messages"]["get"]["parameters"]
    assert {"name": "X-Chat-Session", "in": "header"}.items() <= poll[0].items()
    assert not [p for p in poll if p["in"] == "query" and p["name"] == "session"]
    assert set(paths["/slack/events"]["post"]["requestBody"]["content"]) == {
        "application/json", "application/x-www-form-urlencoded"}
    for path in ("/notifications/{token}", "/notifications/unsubscribe/{token}",
                 "/webchat/api/push"):   # issue 18's pages and push API are fuzzed too
        assert paths[path]["post"]["requestBody"]["content"], path
    one_click = paths["/notifications/unsubscribe/{token}"]["post"]["requestBody"]["content"]
    assert set(one_click) == {"application/x-www-form-urlencoded", "multipart/form-data"}
    (search,) = paths["/help"]["get"]["parameters"]  # the help centre's search is fuzzed too
    assert search["name"] == "q" and search["schema"]["maxLength"] == 200
