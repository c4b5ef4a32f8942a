"""The app's OpenAPI document, served at /openapi.json: the outside faces of DESIGN.md
with their request bodies and headers described.

The routes read their bodies themselves (bounded, bot.bodies), so FastAPI sees no body
to describe: the descriptions are written here, in one place, and laid over what
FastAPI generates. The fuzz suite (tests/fuzz) generates its requests from this
document, so a route described loosely here is fuzzed loosely.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from bot.bodies import SMALL_CAP

_TEXT = {"type": "string", "maxLength": 4000}
_LOCALE = {"type": "string", "maxLength": 35, "description": "a BCP 47 tag, e.g. de-DE"}
_SESSION = {"type": "string", "maxLength": 200,
            "description": "the token the server issued (absent: a new chat)"}
_REPLY = {
    "type": "object", "required": ["text"],
    "properties": {
        "text": {"type": "string"},
        "buttons": {"type": "array", "items": {"type": "object", "properties": {
            "label": {"type": "string"}, "action": {"type": "string"}}}},
        "image": {"type": ["string", "null"]},
        "links": {"type": "array", "items": {"type": "object", "properties": {
            "label": {"type": "string"}, "url": {"type": "string"}}}},
    },
}
_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}}


def _json(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _answers(ok: dict[str, Any], *statuses: int) -> dict[str, Any]:
    described = {"200": {"description": "done", "content": {"application/json": {
        "schema": ok}}}}
    for status in statuses:
        described[str(status)] = {"description": "refused", "content": {
            "application/json": {"schema": _ERROR}}}
    return described


def _header(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required,
            "schema": {"type": "string"}, "description": description}


_MESSAGE = {
    "type": "object",
    "description": "exactly one of text or action",
    "properties": {"session": _SESSION, "text": _TEXT,
                   "action": {"type": "string", "maxLength": 200}, "locale": _LOCALE},
}
_TELEGRAM_USER = {"type": "object", "required": ["id", "is_bot", "first_name"], "properties": {
    "id": {"type": "integer"}, "is_bot": {"type": "boolean"},
    "first_name": {"type": "string"}, "last_name": {"type": "string"},
    "username": {"type": "string"}, "language_code": {"type": "string"}}}
_TELEGRAM_CHAT = {"type": "object", "required": ["id", "type"], "properties": {
    "id": {"type": "integer"}, "type": {"enum": ["private", "group", "supergroup", "channel"]},
    "first_name": {"type": "string"}}}
_TELEGRAM_MESSAGE = {"type": "object", "required": ["message_id", "date", "chat"],
                     "properties": {"message_id": {"type": "integer"},
                                    "date": {"type": "integer"}, "chat": _TELEGRAM_CHAT,
                                    "from": _TELEGRAM_USER, "text": {"type": "string"}}}
_TELEGRAM_UPDATE = {"type": "object", "required": ["update_id"], "properties": {
    "update_id": {"type": "integer"}, "message": _TELEGRAM_MESSAGE,
    "callback_query": {"type": "object", "required": ["id", "from", "chat_instance"],
                       "properties": {"id": {"type": "string"}, "from": _TELEGRAM_USER,
                                      "message": _TELEGRAM_MESSAGE,
                                      "chat_instance": {"type": "string"},
                                      "data": {"type": "string"}}}}}
_SLACK_EVENT = {"type": "object", "properties": {
    "type": {"enum": ["event_callback", "url_verification"]},
    "token": {"type": "string"}, "challenge": {"type": "string"},
    "team_id": {"type": "string"}, "api_app_id": {"type": "string"},
    "event_id": {"type": "string"}, "event_time": {"type": "integer"},
    "event": {"type": "object", "properties": {
        "type": {"enum": ["message", "app_mention"]}, "channel": {"type": "string"},
        "user": {"type": "string"}, "text": {"type": "string"}, "ts": {"type": "string"},
        "channel_type": {"type": "string"}}}}}
_STRIPE_EVENT = {"type": "object", "required": ["id", "type", "data"], "properties": {
    "id": {"type": "string"}, "object": {"const": "event"}, "type": {"type": "string"},
    "created": {"type": "integer"},
    "data": {"type": "object", "required": ["object"], "properties": {"object": {
        "type": "object", "properties": {
            "id": {"type": "string"}, "amount_total": {"type": "integer"},
            "currency": {"type": "string"}, "payment_status": {"type": "string"},
            "payment_intent": {"type": ["string", "null"]},
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}}}}}}}}
_PAYPAL_EVENT = {"type": "object", "required": ["id", "event_type", "resource"], "properties": {
    "id": {"type": "string"}, "event_version": {"type": "string"},
    "create_time": {"type": "string"}, "resource_type": {"type": "string"},
    "event_type": {"type": "string"},
    "resource": {"type": "object", "properties": {
        "id": {"type": "string"}, "status": {"type": "string"},
        "amount": {"type": "object", "properties": {"currency_code": {"type": "string"},
                                                    "value": {"type": "string"}}}}}}}

RECEIVED = {"type": "object", "properties": {"received": {"type": "boolean"}}}
_PAGE = {"200": {"description": "the page", "content": {"text/html": {"schema": {
    "type": "string"}}}}, "404": {"description": "a tampered, expired or spent link",
                                  "content": {"text/html": {"schema": {"type": "string"}}}}}
_CHOICES_FORM = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 100},
                 "properties": {"quiet": {"type": "string", "maxLength": 20},
                                "zone": {"type": "string", "maxLength": 64}}}
_ONE_CLICK = {"type": "object", "required": ["List-Unsubscribe"], "properties": {
    "List-Unsubscribe": {"type": "string", "const": "One-Click"}}}
_SUBSCRIPTION = {"type": "object", "required": ["endpoint", "keys"], "properties": {
    "endpoint": {"type": "string", "format": "uri", "maxLength": 1024},
    "expirationTime": {"type": ["number", "null"]},
    "keys": {"type": "object", "required": ["p256dh", "auth"], "properties": {
        "p256dh": {"type": "string", "maxLength": 200},
        "auth": {"type": "string", "maxLength": 100}}}}}


def _form(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {
        "application/x-www-form-urlencoded": {"schema": schema},
        "multipart/form-data": {"schema": schema}}}
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("/webchat/api/messages", "post"): {
        "summary": "Send a message or a button's action to the web chat",
        "description": "A POST without a valid session token starts a new chat; the answer "
                       "carries the token as \"session\" beside \"replies\". Bodies over "
                       f"{SMALL_CAP} bytes are refused.",
        "requestBody": _json(_MESSAGE),
        "responses": _answers({"type": "object", "required": ["replies"], "properties": {
            "session": {"type": "string"}, "replies": {"type": "array", "items": _REPLY}}},
            400, 413, 429),
    },
    ("/webchat/api/photos", "post"): {
        "summary": "Send a photo for the return under way in this chat",
        "description": "The body is the image itself (PNG, JPEG, WebP or GIF, checked by "
                       "its bytes), at most 8 MiB; the answer has a message's shape. Only "
                       "a chat the server issued: no session, no upload.",
        "parameters": [_header("X-Chat-Session", "the chat's token (or the cookie)")],
        "requestBody": {"required": True, "content": {"image/*": {"schema": {
            "type": "string", "format": "binary"}}}},
        "responses": _answers({"type": "object", "required": ["replies"], "properties": {
            "session": {"type": "string"}, "replies": {"type": "array", "items": _REPLY}}},
            401, 413, 415, 429),
    },
    ("/webchat/api/messages", "get"): {
        "summary": "Take the messages the shop queued for this chat (a long poll)",
        "parameters": [
            _header("X-Chat-Session", "the chat's token (or the cookie); never in the URL"),
            {"name": "wait", "in": "query", "required": False,
             "schema": {"type": "number", "minimum": 0, "maximum": 25},
             "description": "seconds to hold the request while nothing is queued"}],
        "responses": _answers({"type": "object", "properties": {
            "replies": {"type": "array", "items": _REPLY}}}, 400, 401, 429),
    },
    ("/nlu/parse", "post"): {
        "summary": "Understand a sentence (Rasa's /model/parse shape)",
        "requestBody": _json({"type": "object", "required": ["text"], "properties": {
            "text": _TEXT, "locale": _LOCALE}}),
        "responses": _answers({"type": "object", "properties": {
            "text": {"type": "string"}, "intent": {"type": "object"},
            "intent_ranking": {"type": "array"}, "entities": {"type": "array"}}}, 400, 413),
    },
    ("/telegram/webhook", "post"): {
        "summary": "Telegram updates (checks X-Telegram-Bot-Api-Secret-Token)",
        "parameters": [_header("X-Telegram-Bot-Api-Secret-Token", "the webhook's secret")],
        "requestBody": _json(_TELEGRAM_UPDATE),
        "responses": _answers({"type": "object"}, 400, 401, 404, 413),
    },
    ("/slack/events", "post"): {
        "summary": "Slack Events API and interactivity (checks Slack's signature)",
        "parameters": [_header("X-Slack-Request-Timestamp", "seconds since 1970"),
                       _header("X-Slack-Signature", "v0=HMAC-SHA256 of v0:timestamp:body")],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": _SLACK_EVENT},
            "application/x-www-form-urlencoded": {"schema": {
                "type": "object", "properties": {"payload": {
                    "type": "string", "description": "an interaction, as JSON"}}}}}},
        "responses": _answers({"type": "object"}, 400, 401, 404, 413),
    },
    ("/payments/stripe/webhook", "post"): {
        "summary": "Stripe events (checks Stripe-Signature)",
        "parameters": [_header("Stripe-Signature", "t=timestamp,v1=HMAC-SHA256")],
        "requestBody": _json(_STRIPE_EVENT),
        "responses": _answers(RECEIVED, 400, 404, 413),
    },
    ("/help", "get"): {
        "summary": "The help centre: the shop's FAQ as a page, searchable",
        "parameters": [{"name": "q", "in": "query", "required": False,
                        "schema": {"type": "string", "maxLength": 200},
                        "description": "words to search for (longer searches are cut)"}],
        "responses": {"200": {"description": "the page", "content": {
            "text/html": {"schema": {"type": "string"}}}}},
    },
    ("/notifications/{token}", "get"): {
        "summary": "A shopper's notification choices, from the signed link in every mail",
        "responses": _PAGE,
    },
    ("/notifications/{token}", "post"): {
        "summary": "Save the choices (the link is spent; the page answers with a fresh one)",
        "requestBody": _form(_CHOICES_FORM),
        "responses": {**_PAGE, "400": {"description": "a field that is not a choice"}},
    },
    ("/notifications/unsubscribe/{token}", "get"): {
        "summary": "Confirm before unsubscribing (a GET never changes anything)",
        "responses": _PAGE,
    },
    ("/notifications/unsubscribe/{token}", "post"): {
        "summary": "One-click unsubscribe (RFC 8058) from a mail's List-Unsubscribe header",
        "requestBody": _form(_ONE_CLICK),
        "responses": {**_PAGE, "400": {"description": "not List-Unsubscribe=One-Click"}},
    },
    ("/webchat/api/push/key", "get"): {
        "summary": "The shop's VAPID public key, and whether to offer push in this chat",
        "parameters": [_header("X-Chat-Session", "the chat's token (or the cookie)")],
        "responses": _answers({"type": "object", "properties": {
            "key": {"type": "string"}, "offer": {"type": "boolean"}}}, 401, 429),
    },
    ("/webchat/api/push", "post"): {
        "summary": "Keep this browser's push subscription for this chat",
        "parameters": [_header("X-Chat-Session", "the chat's token (or the cookie)")],
        "requestBody": _json(_SUBSCRIPTION),
        "responses": _answers({"type": "object"}, 400, 401, 413, 429),
    },
    ("/webchat/api/push", "delete"): {
        "summary": "End this chat's push subscription at an endpoint",
        "parameters": [_header("X-Chat-Session", "the chat's token (or the cookie)")],
        "requestBody": _json({"type": "object", "required": ["endpoint"], "properties": {
            "endpoint": {"type": "string", "maxLength": 1024}}}),
        "responses": _answers({"type": "object"}, 400, 401, 404, 429),
    },
    ("/payments/paypal/webhook", "post"): {
        "summary": "PayPal events (verified with PayPal after cheap checks)",
        "parameters": [_header(f"PAYPAL-{name}", f"PayPal's {name.lower()}") for name in (
            "AUTH-ALGO", "CERT-URL", "TRANSMISSION-ID", "TRANSMISSION-SIG",
            "TRANSMISSION-TIME")],
        "requestBody": _json(_PAYPAL_EVENT),
        "responses": _answers(RECEIVED, 400, 404, 413, 429),
    },
}


def publish(app: FastAPI) -> None:
    """Make `app.openapi()` (and so /openapi.json) carry the descriptions above."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            for (path, method), described in OPERATIONS.items():
                operation = schema.get("paths", {}).get(path, {}).get(method)
                if operation is not None:  # the route is on (its channel is configured)
                    operation.update(described)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
