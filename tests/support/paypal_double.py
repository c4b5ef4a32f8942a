"""A recorded-response double of PayPal's REST API (OAuth, Orders v2, captures, refunds,
webhook verification) in the shapes of PayPal's documentation. Each call is recorded with
its PayPal-Request-Id; a repeated id gets the first answer, as PayPal does.
Signature verification says SUCCESS for `transmission_sig == GOOD_SIGNATURE` only.
"""

from __future__ import annotations

import base64
import itertools
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.support.platforms import Call, RecordingServer

GOOD_SIGNATURE = "paypal-signed-this"
CLIENT_ID, CLIENT_SECRET = "paypal-client-id", "paypal-client-secret"
_ids = itertools.count(1)


class FakePayPal(RecordingServer):
    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, dict[str, Any]] = {}
        self._answers: dict[str, tuple[int, dict[str, Any]]] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/{path:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if path == "v1/oauth2/token":
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("Authorization") != f"Basic {expected}":
                return web.json_response({"error": "invalid_client"}, status=401)
            self.calls.append(Call(path, dict(await request.post())))
            return web.json_response({"access_token": "A21-test-token", "token_type": "Bearer",
                                      "expires_in": 32400})
        if request.headers.get("Authorization") != "Bearer A21-test-token":
            return web.json_response({"name": "AUTHENTICATION_FAILURE"}, status=401)
        body = json.loads(await request.read() or b"{}")
        key = request.headers.get("PayPal-Request-Id", "")
        self.calls.append(Call(path, {**body, "_request_id": key}))
        if failure := self._failure(path.split("/")[1] if "/" in path else path):
            return web.json_response({"name": "INTERNAL_SERVER_ERROR"}, status=failure.status)
        if key and key in self._answers:
            status, answer = self._answers[key]
            return web.json_response(answer, status=status)
        status, answer = self._answer(path, body)
        if key:
            self._answers[key] = (status, answer)
        return web.json_response(answer, status=status)

    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        parts = path.split("/")
        if path == "v1/notifications/verify-webhook-signature":
            good = body.get("transmission_sig") == GOOD_SIGNATURE and body.get("webhook_id")
            return 200, {"verification_status": "SUCCESS" if good else "FAILURE"}
        if path == "v2/checkout/orders":
            order_id = f"5O1901{next(_ids):08d}T"
            unit = body["purchase_units"][0]
            self.orders[order_id] = {"id": order_id, "intent": body["intent"],
                                     "amount": unit["amount"],
                                     "reference_id": unit["reference_id"]}
            return 200, {"id": order_id, "status": "PAYER_ACTION_REQUIRED", "links": [
                {"href": f"https://api-m.sandbox.paypal.com/v2/checkout/orders/{order_id}",
                 "rel": "self", "method": "GET"},
                {"href": f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}",
                 "rel": "payer-action", "method": "GET"}]}
        if parts[:3] == ["v2", "checkout", "orders"] and parts[4] in ("capture", "authorize"):
            order = self.orders[parts[3]]
            amount = {k: order["amount"][k] for k in ("currency_code", "value")}
            made = {"id": f"3C6793{next(_ids):08d}F", "status": "COMPLETED"
                    if parts[4] == "capture" else "CREATED", "amount": amount}
            kind = "captures" if parts[4] == "capture" else "authorizations"
            return 201, {"id": order["id"], "status": "COMPLETED", "purchase_units": [
                {"reference_id": order["reference_id"], "payments": {kind: [made]}}]}
        if parts[:3] == ["v2", "payments", "captures"] and parts[4] == "refund":
            return 201, {"id": f"1JU089{next(_ids):08d}", "status": "COMPLETED",
                         "amount": body.get("amount")}
        if parts[:3] == ["v2", "payments", "authorizations"]:
            if parts[4] == "capture":
                return 201, {"id": f"7TK534{next(_ids):08d}", "status": "COMPLETED"}
            return 200, {}
        return 404, {"name": "RESOURCE_NOT_FOUND"}

    @staticmethod
    def webhook(event_type: str, resource: dict[str, Any], event_id: str | None = None,
                signature: str = GOOD_SIGNATURE) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"id": event_id or f"WH-{next(_ids):08d}", "event_version": "1.0",
                           "create_time": "2026-11-29T10:00:00Z", "resource_type": "checkout-order",
                           "event_type": event_type, "summary": event_type,
                           "resource": resource}).encode()
        return body, {"Content-Type": "application/json", "PAYPAL-AUTH-ALGO": "SHA256withRSA",
                      "PAYPAL-CERT-URL": "https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-1",
                      "PAYPAL-TRANSMISSION-ID": f"tx-{next(_ids)}",
                      "PAYPAL-TRANSMISSION-SIG": signature,
                      "PAYPAL-TRANSMISSION-TIME":
                          datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
