"""`POST /slack/events`: the Events API and interactivity, handed to bolt (it answers
url_verification and acknowledges before the work is done).

The signature and its timestamp are checked here, on the raw body, before bolt sees
anything: bolt parses first and verifies after, so unsigned `null`, broken JSON,
invalid UTF-8, `payload=1` or a timestamp of `abc` each raised inside it (445 of 878
fuzzed unsigned requests got a 500), and it logged every refused body whole at INFO.
A signed body is then read as bolt will read it, within core.bounded_json's bounds.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt.request.async_request import AsyncBoltRequest

from bot import logs
from bot.bodies import BadBody, read_body
from core.bounded_json import UnreadableJson, loads

log = logging.getLogger("chatcart.slack")
MAX_BODY = 1_000_000
MAX_AGE = 300           # seconds either way, as Slack advises (replays of old requests)


def signed(secret: str, body: bytes, timestamp: str, signature: str) -> str | None:
    """None when Slack signed `body` at `timestamp` within MAX_AGE, else why not."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) < 12):
        return "bad timestamp"
    if abs(time.time() - int(timestamp)) > MAX_AGE:
        return "stale timestamp"
    if not signature.isascii():
        return "bad signature"
    # On the bytes as they came: slack_sdk's SignatureVerifier decodes the body as UTF-8
    # first, and raised on a body that is not (a 500 found by the fuzz suite).
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body,
                      hashlib.sha256).hexdigest()
    if not hmac.compare_digest(f"v0={digest}".encode(), signature.encode()):
        return "bad signature"
    return None


def _readable(body: bytes, content_type: str) -> bool:
    """Whether bolt can parse this signed body (its rules: JSON when it says so or looks
    like it, else a form whose `payload` is JSON) into an object it can route."""
    try:
        text = body.decode("utf-8")
        if content_type == "application/json" or text.startswith("{"):
            return _shaped(loads(body, max_bytes=MAX_BODY))
        if "payload" in text:
            payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
            return payload is None or _shaped(loads(payload, max_bytes=MAX_BODY))
        return True
    except (UnicodeDecodeError, UnreadableJson):
        return False


# The fields bolt's middleware reads with `.get` or `in`, and the kinds it takes them as.
_OBJECTS = ("event", "container", "message", "view", "state")
_OBJECTS_OR_IDS = ("team", "user", "channel", "enterprise")
_LISTS_OF_OBJECTS = ("authorizations", "actions")


def _shaped(value: object) -> bool:
    """A JSON object whose fields bolt reads have the kinds it expects (a signed `event`
    that was a number failed in bolt's middleware: a 500 and an ERROR with a traceback)."""
    if not isinstance(value, dict):
        return False
    for key in _OBJECTS:
        if key in value and not isinstance(value[key], dict):
            return False
    for key in _OBJECTS_OR_IDS:
        if key in value and not isinstance(value[key], dict | str | None):
            return False
    for key in _LISTS_OF_OBJECTS:
        if key in value and not (isinstance(value[key], list)
                                 and all(isinstance(item, dict) for item in value[key])):
            return False
    return True


def _bolt_reads(body: bytes, request: Request) -> bool:
    """Whether bolt can build its request (and context) from this body: its extractors
    take `"id" in body["enterprise"]` and the like on trust, and a signed body with a
    number there raised TypeError, a 500 (found by the fuzz suite)."""
    try:
        AsyncBoltRequest(body=body.decode("utf-8"), query=request.query_params,  # type: ignore[arg-type]
                         headers=request.headers)  # type: ignore[arg-type]
    except (TypeError, KeyError, AttributeError, ValueError, IndexError):
        return False
    return True


def slack_router() -> APIRouter:
    router = APIRouter()

    @router.post("/slack/events")
    async def events(request: Request) -> Response:
        channel = request.app.state.slack
        if channel is None:
            return JSONResponse({"error": "Slack is not configured here."}, status_code=404)
        try:
            body = await read_body(request, MAX_BODY)
        except BadBody as bad:
            return bad.response()
        problem = signed(channel.signing_secret, body,
                         request.headers.get("X-Slack-Request-Timestamp", ""),
                         request.headers.get("X-Slack-Signature", ""))
        if problem is not None:
            logs.event(log, "slack.refused", logging.WARNING, reason=problem, size=len(body),
                       body=logs.excerpt(body))
            return JSONResponse({"error": "invalid request signature"}, status_code=401)
        if not (_readable(body, request.headers.get("Content-Type", ""))
                and _bolt_reads(body, request)):
            logs.event(log, "slack.unreadable", logging.WARNING, size=len(body),
                       body=logs.excerpt(body))
            return JSONResponse({"error": "not a Slack event or action"}, status_code=400)
        response: Response = await channel.handler.handle(request)
        return response

    return router
