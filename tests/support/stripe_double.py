"""Stripe for tests: Checkout Sessions (which localstripe lacks) answered here from recorded
shapes; everything else (PaymentIntent capture and cancel, refunds) passed on to a real
localstripe server when one is given, else answered here too. Every call is recorded
with its Idempotency-Key, and a repeated key gets the first answer, as Stripe does.
`signed` makes a webhook body and its Stripe-Signature header.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
from typing import Any

import httpx
from aiohttp import web

from tests.support.platforms import Call, RecordingServer

_ids = itertools.count(1)


def _nested(form: dict[str, str]) -> dict[str, Any]:
    """Stripe's form encoding (`line_items[0][price_data][currency]=eur`) as nested data."""
    root: dict[str, Any] = {}
    for key, value in form.items():
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return root


class FakeStripe(RecordingServer):
    def __init__(self, upstream: str | None = None) -> None:
        super().__init__()
        self.upstream = upstream
        self.sessions: dict[str, dict[str, Any]] = {}
        self._by_key: dict[str, tuple[int, dict[str, Any], tuple[str, dict[str, Any]]]] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/{path:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        params = _nested(dict(await request.post()))
        key = request.headers.get("Idempotency-Key", "")
        params["_idempotency_key"] = key
        self.calls.append(Call(path, params))
        if failure := self._failure(path.split("/")[0]):
            return web.json_response({"error": {"type": "api_error",
                                                "message": "An unknown error occurred"}},
                                     status=failure.status)
        sent = {k: v for k, v in params.items() if k != "_idempotency_key"}
        if key and key in self._by_key:
            status, answer, first = self._by_key[key]
            if first != (path, sent):  # as Stripe does: a key is for one request only
                return web.json_response({"error": {
                    "type": "idempotency_error", "message": "Keys for idempotent requests "
                    "can only be used with the same parameters they were first used with."}},
                    status=400)
            return web.json_response(answer, status=status)
        if request.headers.get("Authorization") != "Bearer sk_test_chatcart":
            return web.json_response({"error": {"type": "invalid_request_error",
                                                "message": "Invalid API Key provided"}},
                                     status=401)
        if self.upstream and not path.startswith("checkout/sessions"):
            async with httpx.AsyncClient() as client:
                passed = await client.post(f"{self.upstream}/v1/{path}",
                                           content=await request.read(),
                                           headers={"Authorization": "Bearer sk_test_chatcart",
                                                    "Content-Type": request.content_type})
            status, answer = passed.status_code, passed.json()
        else:
            status, answer = 200, self._answer(path, params)
        if key:
            self._by_key[key] = (status, answer, (path, sent))
        return web.json_response(answer, status=status)

    def _answer(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        if path == "checkout/sessions":
            number = next(_ids)
            items = params.get("line_items", {}).values()
            total = sum(int(i["price_data"]["unit_amount"]) * int(i["quantity"]) for i in items)
            session = {"id": f"cs_test_{number:06d}", "object": "checkout.session",
                       "url": f"https://checkout.stripe.com/c/pay/cs_test_{number:06d}",
                       "amount_total": total,
                       "currency": next(iter(items))["price_data"]["currency"],
                       "payment_intent": None, "payment_status": "unpaid", "status": "open",
                       "mode": "payment", "metadata": params.get("metadata", {}),
                       "client_reference_id": params.get("client_reference_id"),
                       "expires_at": int(params.get("expires_at", 0))}
            self.sessions[session["id"]] = session
            return session
        expire = re.fullmatch(r"checkout/sessions/([^/]+)/expire", path)
        if expire and expire.group(1) in self.sessions:
            self.sessions[expire.group(1)]["status"] = "expired"
            return self.sessions[expire.group(1)]
        match = re.fullmatch(r"payment_intents/([^/]+)/(capture|cancel)", path)
        if match:
            status = "succeeded" if match.group(2) == "capture" else "canceled"
            return {"id": match.group(1), "object": "payment_intent", "status": status}
        if path == "refunds":
            return {"id": f"re_{next(_ids):06d}", "object": "refund", "status": "succeeded",
                    "amount": int(params["amount"]), "payment_intent": params["payment_intent"]}
        return {"error": {"type": "invalid_request_error", "message": f"no {path}"}}

    @staticmethod
    def signed(secret: str, event_type: str, data: dict[str, Any],
               event_id: str | None = None) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"id": event_id or f"evt_{next(_ids):08d}", "object": "event",
                           "type": event_type, "created": int(time.time()),
                           "data": {"object": data}, "livemode": False,
                           "api_version": "2025-01-27"}).encode()
        stamp = int(time.time())
        signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body,
                             hashlib.sha256).hexdigest()
        return body, {"Stripe-Signature": f"t={stamp},v1={signature}",
                      "Content-Type": "application/json"}
