"""Web push for the web chat: the page subscribes a browser to its chat's order news.

`GET /webchat/api/push/key` gives the page the shop's VAPID public key (the
applicationServerKey) and whether to offer the subscription yet: only once the chat has a
confirmed order, so the browser's permission prompt is never shown to someone who has
nothing to hear about. `POST /webchat/api/push` keeps the `PushSubscription.toJSON()` the
page sends; `DELETE /webchat/api/push` with `{"endpoint": ...}` ends this chat's
subscription there (never another chat's).

Each request shows the chat's token the way a poll or a photo does (X-Chat-Session, else
the cookie), counts against the web chat's per-client message limit, and is bounded
(MAX_BODY; the endpoint and keys are checked in core.notifications.push).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from bot.bodies import BadBody, read_json
from bot.channels.webchat import COOKIE, NO_STORE, Gate, _error, _locale, _refused
from bot.channels.webchat_limits import client_key
from core.audit.actor import Actor
from core.audit.actor import Channel as Via
from core.i18n import _
from core.notifications import push
from core.notifications.vapid import keys_in
from core.orders import service as orders

MAX_BODY = 4096   # a subscription's JSON is about 400 bytes
SESSION = Annotated[str | None, Header(description="the chat's token (else the cookie)")]
ACTOR = Actor(Via.WEB, label="web chat")


async def _chat(request: Request, token: str | None) -> tuple[str, JSONResponse | None]:
    """The chat's key (`web:<id>`), or the refusal to answer with."""
    locale = _locale(request)
    gate: Gate = request.app.state.webchat_gate
    chat_id = gate.tokens.chat_id(token or request.cookies.get(COOKIE))
    if chat_id is None:
        return "", _error(_("Order updates belong to a chat: send the \"session\" of your "
                            "last answer in the X-Chat-Session header.", locale=locale), 401)
    client = client_key(request.client.host if request.client else None)
    refused = await gate.limits.admit(client, new_chat=False, locale=locale)
    if refused is not None:
        return "", _refused(refused)
    return f"web:{chat_id}", None


async def _body(request: Request) -> dict[str, Any] | JSONResponse:
    locale = _locale(request)
    try:
        body = await read_json(request, MAX_BODY)
    except BadBody as bad:
        return _error(_("The body must be JSON ({problem}).", locale=locale,
                        problem=bad.reason), bad.status)
    if not isinstance(body, dict):
        return _error(_("Send the subscription as a JSON object.", locale=locale))
    return body


def push_router() -> APIRouter:
    router = APIRouter()

    @router.get("/webchat/api/push/key")
    async def key(request: Request, x_chat_session: SESSION = None) -> JSONResponse:
        chat_key, refused = await _chat(request, x_chat_session)
        if refused is not None:
            return refused
        shop = request.app.state.shop
        async with shop.sessions() as session:
            offer = await orders.confirmed_in_chat(session=session, chat_key=chat_key)
        return JSONResponse({"key": keys_in(shop.settings.data_dir).public_key,
                             "offer": offer}, headers=NO_STORE)

    @router.post("/webchat/api/push")
    async def subscribe(request: Request, x_chat_session: SESSION = None) -> JSONResponse:
        chat_key, refused = await _chat(request, x_chat_session)
        if refused is not None:
            return refused
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        locale = _locale(request)
        keys = body.get("keys") if isinstance(body.get("keys"), dict) else {}
        endpoint, p256dh, auth = body.get("endpoint"), keys.get("p256dh"), keys.get("auth")
        shop = request.app.state.shop
        problem = push.refusal(endpoint, p256dh, auth, shop.settings.push_allow_local)
        if problem is push.Refusal.ENDPOINT:
            return _error(_("That push subscription's address is not one this shop can "
                            "send to.", locale=locale))
        if problem is push.Refusal.KEYS:
            return _error(_("That push subscription's keys are not valid.", locale=locale))
        async with shop.transaction() as session:
            await push.subscribe(session=session, chat_key=chat_key, endpoint=str(endpoint),
                                 p256dh=str(p256dh), auth=str(auth), actor=ACTOR,
                                 allow_local=shop.settings.push_allow_local)
        return JSONResponse({"subscribed": True}, status_code=201, headers=NO_STORE)

    @router.delete("/webchat/api/push")
    async def unsubscribe(request: Request, x_chat_session: SESSION = None) -> JSONResponse:
        chat_key, refused = await _chat(request, x_chat_session)
        if refused is not None:
            return refused
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        async with request.app.state.shop.transaction() as session:
            ended = await push.unsubscribe(session=session, chat_key=chat_key,
                                           endpoint=body.get("endpoint"), actor=ACTOR)
        if not ended:
            return _error(_("This chat has no order updates going to that browser.",
                            locale=_locale(request)), 404)
        return JSONResponse({"unsubscribed": True}, headers=NO_STORE)

    return router
