"""Request bodies, bounded before they are buffered.

`BodyLimit` (an ASGI middleware around the whole app) refuses a body on its
Content-Length, and counts a streamed (chunked) one as it arrives: past the cap the
route's read fails with 413 and nothing more is taken in. The cap is the tightest of
the path prefixes that match (the web chat and NLU take 16 KB), else the server-wide
one. It measured: a 100 MB body to `/nlu/parse` answered 200 after growing the process
by 232 MB.

`read_json` is what the routes use: the body within a cap, then core.bounded_json's
depth, surrogate and NaN checks, each refusal a `BadBody` with a status and a sentence.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.bounded_json import UnreadableJson, loads

SERVER_CAP = 1_000_000          # bytes: every webhook fits (Slack's largest are ~100 KB)
SMALL_CAP = 16_384              # the web chat and /nlu/parse: a message, not a file


class BodyTooLarge(HTTPException):
    def __init__(self, cap: int) -> None:
        super().__init__(413, f"The request body is larger than {cap} bytes.")


class BodyLimit:
    """`caps` maps path prefixes to their own cap (the longest prefix that matches wins)."""

    def __init__(self, app: ASGIApp, cap: int = SERVER_CAP,
                 caps: dict[str, int] | None = None) -> None:
        self.app, self.cap = app, cap
        self.caps = sorted((caps or {}).items(), key=lambda item: -len(item[0]))

    def cap_for(self, path: str) -> int:
        return next((cap for prefix, cap in self.caps if path.startswith(prefix)), self.cap)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope["path"])
        declared = _content_length(scope)
        if declared is None or declared > cap:
            await _refuse(send, 400 if declared is None else 413,
                          "Content-Length is not a number." if declared is None
                          else f"The request body is larger than {cap} bytes.")
            return
        taken = 0
        started = False

        async def counted() -> Message:
            nonlocal taken
            message = await receive()
            if message["type"] == "http.request":
                taken += len(message.get("body", b""))
                if taken > cap:
                    raise BodyTooLarge(cap)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:  # a route that let it through: still a 413, not a 500
            if not started:
                await _refuse(send, 413, f"The request body is larger than {cap} bytes.")


def _content_length(scope: Scope) -> int | None:
    """The declared length; 0 when none is given (a streamed body is counted instead);
    None when it is not a plain number."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() and len(value) < 19 else None
    return 0


async def _refuse(send: Send, status: int, message: str) -> None:
    """Answer at once. The connection is kept: closing it with the body unread reset it,
    and the client could lose the 413 (1 of 45,754 fuzzed requests); the server reads
    the rest and throws it away."""
    response = JSONResponse({"error": message}, status_code=status)
    await send({"type": "http.response.start", "status": status,
                "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


class BadBody(Exception):
    """A body a route will not read: `status` (400 or 413) and a sentence for the client."""

    def __init__(self, status: int, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason or message

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.message}, status_code=self.status)


async def read_body(request: Request, cap: int) -> bytes:
    """The raw body, refused (413) as soon as it passes `cap` bytes."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > cap:
                raise BadBody(413, f"The request body is larger than {cap} bytes.")
            chunks.append(chunk)
    except BodyTooLarge as refused:
        raise BadBody(413, str(refused.detail)) from None
    body = b"".join(chunks)
    request._body = body  # as Request.body() keeps it: a later read (bolt's) gets it again
    return body


async def read_json(request: Request, cap: int = SERVER_CAP, what: str = "The body") -> Any:
    """The body's JSON value, within `cap` bytes and core.bounded_json's bounds."""
    raw = await read_body(request, cap)
    try:
        return loads(raw, max_bytes=cap)
    except UnreadableJson as problem:
        raise BadBody(413 if problem.too_large else 400,
                      f"{what} must be JSON ({problem}).", str(problem)) from None
