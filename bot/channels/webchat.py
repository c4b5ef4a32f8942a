"""The web chat: `GET /chat` for a person, `POST/GET /webchat/api/messages` as in DESIGN.md."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict, deque
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from bot.messages import ChatRef, Incoming, Kind, Reply

STATIC = Path(__file__).parent / "webchat_static"
SESSION = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")
MAX_BODY = 16_384
MAX_WAIT = 25.0


class Outbox:
    """Replies the bot sends on its own, held for the client's next GET (one process)."""

    def __init__(self, limit: int = 50) -> None:
        self._queues: dict[str, deque[Reply]] = defaultdict(lambda: deque(maxlen=limit))
        self._ready: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def push(self, session: str, reply: Reply) -> None:
        self._queues[session].append(reply)
        self._ready[session].set()

    async def take(self, session: str, wait: float) -> list[Reply]:
        if not self._queues.get(session) and wait > 0:
            event = self._ready[session]
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), timeout=wait)
            except TimeoutError:
                pass
        queue = self._queues.pop(session, deque())
        self._ready.pop(session, None)
        return list(queue)


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
    """Routes reading the pipeline and outbox the composition root put on `app.state`."""
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
        outbox: Outbox = request.app.state.outbox
        queued = await outbox.take(session, min(max(wait, 0.0), MAX_WAIT))
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
