"""The web chat: `GET /chat` for a person, `POST/GET /webchat/api/messages` as in DESIGN.md.

The session is a token the server issues (bot/channels/chat_tokens.py): a POST without a
valid one starts a new chat and its answer carries the new token, in the body and, for
the page, in an HttpOnly cookie. The body is the only place a POST takes it from: a
browser (or a test client) may hold several chats' cookies, and a cookie a page did not
choose must not pick the chat its message goes to. A poll shows it in the
`X-Chat-Session` header or the cookie, never in the URL, which access logs keep.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from redis.asyncio import Redis

from bot.bodies import BadBody, read_body, read_json
from bot.channels.chat_tokens import ChatTokens
from bot.channels.text import split_text
from bot.channels.webchat_limits import ClientLimits, Refusal, client_key
from bot.messages import MAX_UPLOAD, ChatRef, Incoming, Kind, Reply, Upload
from core.config import Settings
from core.i18n import _
from core.outbox import service as outbox
from core.shop import Shop

STATIC = Path(__file__).parent / "webchat_static"
MAX_BODY = 16_384
PHOTO_PATH = "/webchat/api/photos"  # a return's photo: the one web chat body over MAX_BODY
MAX_WAIT = 25.0
COOKIE = "cc_chat"
COOKIE_SECONDS = 30 * 24 * 3600  # the page keeps its token longer (localStorage) and shows it
NO_STORE = {"Cache-Control": "no-store"}  # answers carry a token or a chat's replies
# One bubble's text at most (what a shopper may send, too): a longer reply, such as an
# agent's long answer, comes as several bubbles, cut at a paragraph, line or word.
TEXT_LIMIT = 4000
PUSH_WORKER = "push-worker.js"  # web push's service worker (bot/channels/webchat_push.py)


def render(replies: list[Reply]) -> list[dict[str, object]]:
    """Replies in the web chat API's shape, each within TEXT_LIMIT; the picture goes with
    the first piece of a split reply, its buttons and links with the last."""
    shown: list[dict[str, object]] = []
    for reply in replies:
        pieces = split_text(reply.text, TEXT_LIMIT)
        whole = reply.to_json()
        if len(pieces) == 1:
            shown.append(whole)
            continue
        last = len(pieces) - 1
        shown += [{"text": piece, "buttons": whole["buttons"] if n == last else [],
                   "image": whole["image"] if n == 0 else None,
                   "links": whole["links"] if n == last else []}
                  for n, piece in enumerate(pieces)]
    return shown


class Inbox:
    """Messages the shop queued for web chats (core.outbox rows for `web:<chat id>`), handed
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


class Gate:
    """What a web chat request must show, and stay within, before it reaches a chat."""

    def __init__(self, settings: Settings, redis: Redis | None = None) -> None:
        self.tokens = ChatTokens(settings.secret_key)
        self.limits = ClientLimits(settings, redis)
        self.secure = settings.public_base_url.scheme == "https"


def _error(message: str, status: int = 400, headers: dict[str, str] | None = None,
           ) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status,
                        headers={**NO_STORE, **(headers or {})})


def _refused(refusal: Refusal) -> JSONResponse:
    return _error(refusal.message, 429, {"Retry-After": str(refusal.retry_after)})


def _locale(request: Request, body: object = None) -> str | None:
    """The reader's language: the body's `locale`, else the browser's first choice."""
    if isinstance(body, dict) and isinstance(body.get("locale"), str):
        return str(body["locale"])[:35]
    return request.headers.get("accept-language", "").split(",")[0][:35] or None


def _message(body: object, locale: str | None) -> tuple[Kind, str] | str:
    """What a request body says (its kind and its text or action), or what is wrong."""
    if not isinstance(body, dict):
        return _("Send a JSON object: {\"text\": ...} or {\"action\": ...}, with the "
                 "\"session\" of your last answer once you have one.", locale=locale)
    text, action = body.get("text"), body.get("action")
    if (text is None) == (action is None):
        return _("Send exactly one of \"text\" or \"action\".", locale=locale)
    if action is not None:
        if not isinstance(action, str):
            return _("\"action\" must be a string.", locale=locale)
        return Kind.ACTION, action
    if not isinstance(text, str):
        return _("\"text\" must be a string.", locale=locale)
    if text.startswith("/") and len(text) < 40 and " " not in text.strip():
        return Kind.COMMAND, text
    return Kind.TEXT, text


def _wait(raw: str | None) -> float | None:
    """The seconds a poll may wait, clamped to 0..MAX_WAIT; None when it is no number."""
    if raw is None:
        return 0.0
    try:
        seconds = float(raw) if len(raw) <= 32 else math.nan
    except ValueError:
        return None
    return None if math.isnan(seconds) else min(max(seconds, 0.0), MAX_WAIT)


def webchat_router() -> APIRouter:
    """Routes reading the pipeline, inbox and gate the composition root put on `app.state`."""
    router = APIRouter()

    @router.post("/webchat/api/messages")
    async def post_message(request: Request) -> JSONResponse:
        try:  # bounded: size, nesting, lone surrogates (bot.bodies)
            body = await read_json(request, MAX_BODY)
        except BadBody as bad:
            return _error(_("That message is too long.", locale=_locale(request)) if
                          bad.status == 413 else _("The body must be JSON ({problem}).",
                                                   locale=_locale(request),
                                                   problem=bad.reason), bad.status)
        locale = _locale(request, body)
        message = _message(body, locale)
        if isinstance(message, str):
            return _error(message)
        gate: Gate = request.app.state.webchat_gate
        token = body.get("session")
        chat_id = gate.tokens.chat_id(token)
        client = client_key(request.client.host if request.client else None)
        refused = await gate.limits.admit(client, new_chat=chat_id is None, locale=locale)
        if refused is not None:
            return _refused(refused)
        if chat_id is None:  # missing, guessed, made up or from another key: a new chat
            token = gate.tokens.issue()
            chat_id = gate.tokens.chat_id(token)
            assert chat_id is not None
        kind, said = message
        chat = ChatRef("web", chat_id, chat_id)
        incoming = Incoming(chat, kind, action=said) if kind is Kind.ACTION \
            else Incoming(chat, kind, text=said)
        answers = await request.app.state.pipeline.handle(incoming)
        response = JSONResponse({"replies": render(answers),
                                 "session": token}, headers=NO_STORE)
        response.set_cookie(COOKIE, str(token), max_age=COOKIE_SECONDS, path="/",
                            secure=gate.secure, httponly=True, samesite="strict")
        return response

    @router.post(PHOTO_PATH)
    async def post_photo(request: Request,
                         x_chat_session: Annotated[str | None, Header(
                             description="the chat's token (else the cookie)")] = None,
                         ) -> JSONResponse:
        """A photo for the return under way: the image's bytes as the body (its type in
        Content-Type), within MAX_UPLOAD; the answer is a message's: replies."""
        locale = _locale(request)
        gate: Gate = request.app.state.webchat_gate
        token = x_chat_session or request.cookies.get(COOKIE)
        chat_id = gate.tokens.chat_id(token)
        if chat_id is None:
            return _error(_("A photo belongs to a chat: send the \"session\" of your last "
                            "answer in the X-Chat-Session header.", locale=locale), 401)
        if not request.headers.get("content-type", "").startswith("image/"):
            return _error(_("Send the photo itself as the body, with its image type as "
                            "Content-Type (image/jpeg, image/png, image/webp or image/gif).",
                            locale=locale), 415)
        client = client_key(request.client.host if request.client else None)
        refused = await gate.limits.admit(client, new_chat=False, locale=locale)
        if refused is not None:
            return _refused(refused)
        try:
            data = await read_body(request, MAX_UPLOAD)
        except BadBody:
            return _error(_("That photo is larger than {size} MB. Please send a smaller one.",
                            locale=locale, size=MAX_UPLOAD // (1024 * 1024)), 413)
        chat = ChatRef("web", chat_id, chat_id)
        answers = await request.app.state.pipeline.handle(Incoming(
            chat, Kind.ACTION, action="retphoto", files=(Upload(data),)))
        return JSONResponse({"replies": render(answers), "session": token},
                            headers=NO_STORE)

    @router.get("/webchat/api/messages")
    async def poll(request: Request,
                   wait: Annotated[str | None, Query(
                       description="seconds to wait for a reply, 0 to 25")] = None,
                   x_chat_session: Annotated[str | None, Header(
                       description="the chat's token (else the cookie)")] = None,
                   ) -> JSONResponse:
        locale = _locale(request)
        if "session" in request.query_params:
            return _error(_("Send the chat's session in the X-Chat-Session header, not in "
                            "the address: addresses end up in logs.", locale=locale))
        seconds = _wait(wait)
        if seconds is None:
            return _error(_("\"wait\" must be a number of seconds from 0 to 25.",
                            locale=locale))
        gate: Gate = request.app.state.webchat_gate
        chat_id = gate.tokens.chat_id(x_chat_session or request.cookies.get(COOKIE))
        if chat_id is None:
            return _error(_("This poll has no valid chat session. Send the \"session\" of "
                            "your last answer in the X-Chat-Session header; a message "
                            "without one starts a new chat.", locale=locale), 401)
        client = client_key(request.client.host if request.client else None)
        refused = gate.limits.poll_refused(client, locale)
        if refused is not None:
            return _refused(refused)
        try:
            inbox: Inbox = request.app.state.inbox
            queued = await inbox.take(chat_id, seconds, gone=request.is_disconnected)
        finally:
            gate.limits.poll_done(client)
        return JSONResponse({"replies": render(queued)},
                            headers=NO_STORE)

    @router.get("/chat")
    async def page() -> FileResponse:
        return FileResponse(STATIC / "chat.html", media_type="text/html")

    @router.get("/chat/{name}", response_model=None)
    async def asset(name: str) -> FileResponse | JSONResponse:
        if name not in ("chat.js", "chat.css", PUSH_WORKER):
            return _error("Not found.", 404)
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        # The push worker lives under /chat/ but must control the page at /chat itself.
        allowed = {"Service-Worker-Allowed": "/chat"} if name == PUSH_WORKER else None
        return FileResponse(STATIC / name, media_type=kind, headers=allowed)

    return router
