"""The web chat: `GET /chat` for a person, `POST/GET /webchat/api/messages` as in DESIGN.md."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from bot.messages import ChatRef, Incoming, Kind, Reply
from core.outbox import service as outbox
from core.shop import Shop

STATIC = Path(__file__).parent / "webchat_static"
SESSION = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")
MAX_BODY = 16_384
MAX_WAIT = 25.0


class Inbox:
    """Messages the shop queued for web chats (core.outbox rows for `web:<session>`), handed
    to the client's GET by whichever process it reaches. A waiting GET is woken when this
    process (or, through Redis, another) queues one for it, and looks again now and then
    in any case. A GET whose client has gone (a reload, a closed tab) takes nothing."""

    RECHECK = 10.0

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self._waiting: dict[str, set[asyncio.Event]] = {}

    def notify(self, chat_keys: set[str]) -> None:
        for key in chat_keys:
            for event in self._waiting.get(key.removeprefix("web:"), ()):
                event.set()

    async def _take(self, session: str) -> list[Reply]:
        async with self.shop.transaction() as db:
            messages = await outbox.claim(session=db, chat_keys=[f"web:{session}"])
            await outbox.delivered(session=db, message_ids=[m.id for m in messages])
            opened = [outbox.opened(m.payload, self.shop.vault) for m in messages]
            return [Reply.from_payload(payload) for payload in opened if payload is not None]

    async def take(self, session: str, wait: float,
                   gone: Callable[[], Awaitable[bool]] | None = None) -> list[Reply]:
        """What is queued for `session`, waiting up to `wait` seconds for something;
        `gone()` says whether the client has left (then nothing is taken)."""
        deadline = asyncio.get_running_loop().time() + wait
        event = asyncio.Event()
        self._waiting.setdefault(session, set()).add(event)
        try:
            while True:
                event.clear()
                if gone is not None and await gone():
                    return []
                found = await self._take(session)
                left = deadline - asyncio.get_running_loop().time()
                if found or left <= 0 or self.shop.closing.is_set():
                    return found
                await self.shop.waiting(event.wait(), min(left, self.RECHECK))
        finally:
            waiting = self._waiting[session]
            waiting.discard(event)
            if not waiting:
                del self._waiting[session]


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _incoming(body: object) -> Incoming | str:
    """The message in a request body, or what is wrong with it."""
    if not isinstance(body, dict):
        return "Send a JSON object: {\"session\": ..., \"text\": ...} or {..., \"action\": ...}."
    session, text, action = body.get("session"), body.get("text"), body.get("action")
    if not isinstance(session, str) or not SESSION.match(session):
        return "\"session\" must be 8-64 letters, digits, '-' or '_'."
    if (text is None) == (action is None):
        return "Send exactly one of \"text\" or \"action\"."
    chat = ChatRef("web", session, session)
    if action is not None:
        if not isinstance(action, str):
            return "\"action\" must be a string."
        return Incoming(chat, Kind.ACTION, action=action)
    if not isinstance(text, str):
        return "\"text\" must be a string."
    if text.startswith("/") and len(text) < 40 and " " not in text.strip():
        return Incoming(chat, Kind.COMMAND, text=text)
    return Incoming(chat, Kind.TEXT, text=text)


def webchat_router() -> APIRouter:
    """Routes reading the pipeline and inbox the composition root put on `app.state`."""
    router = APIRouter()

    @router.post("/webchat/api/messages")
    async def post_message(request: Request) -> JSONResponse:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return _error("That message is too long.", 413)
        try:
            body = await request.json()
        except ValueError:
            return _error("The body must be JSON.")
        incoming = _incoming(body)
        if isinstance(incoming, str):
            return _error(incoming)
        answers = await request.app.state.pipeline.handle(incoming)
        return JSONResponse({"replies": [reply.to_json() for reply in answers]})

    @router.get("/webchat/api/messages")
    async def poll(request: Request, session: str = "", wait: float = 0.0) -> JSONResponse:
        if not SESSION.match(session):
            return _error("\"session\" must be 8-64 letters, digits, '-' or '_'.")
        inbox: Inbox = request.app.state.inbox
        queued = await inbox.take(session, min(max(wait, 0.0), MAX_WAIT),
                                  gone=request.is_disconnected)
        return JSONResponse({"replies": [reply.to_json() for reply in queued]})

    @router.get("/chat")
    async def page() -> FileResponse:
        return FileResponse(STATIC / "chat.html", media_type="text/html")

    @router.get("/chat/{name}", response_model=None)
    async def asset(name: str) -> FileResponse | JSONResponse:
        if name not in ("chat.js", "chat.css"):
            return _error("Not found.", 404)
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        return FileResponse(STATIC / name, media_type=kind)

    return router
