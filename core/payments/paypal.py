"""PayPal Orders v2 over its REST API (httpx): an order's approval page is the link; when
the payer approves, the shop captures (or authorizes) it; webhooks are verified by
PayPal's own verify-webhook-signature call. Writes carry `PayPal-Request-Id`, so a call
repeated after a timeout is not applied twice.

Each webhook verified is a call out to PayPal, so a forged one is first held to what
costs nothing: the headers PayPal always sends (SHA256withRSA, a certificate on
PayPal's own https hosts, a transmission time within days), a readable event; then
at most `VERIFY_PER_MINUTE` verify calls a minute in this process (429 past that:
PayPal retries its deliveries for three days). PayPal unreachable is a refusal too
(400), not a 500: the delivery is retried.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx

from core.bounded_json import UnreadableJson, loads
from core.config import Settings
from core.money import currency_exponent, parse_amount
from core.orders.models import Order
from core.payments.gateway import (
    BadSignature,
    CheckoutLink,
    EventKind,
    GatewayDown,
    GatewayEvent,
    GatewayRefused,
    WebhookThrottled,
)
from core.payments.models import Payment

SANDBOX = "https://api-m.sandbox.paypal.com"
TIMEOUT = 15.0
SIGNATURE_HEADERS = {"auth_algo": "paypal-auth-algo", "cert_url": "paypal-cert-url",
                     "transmission_id": "paypal-transmission-id",
                     "transmission_sig": "paypal-transmission-sig",
                     "transmission_time": "paypal-transmission-time"}
VERIFY_PER_MINUTE = 60
# PayPal redelivers a webhook for up to three days; a time far outside that is not PayPal.
TRANSMITTED_WITHIN = (timedelta(days=3, hours=1), timedelta(minutes=10))


def implausible(proof: Mapping[str, str], now: datetime) -> str | None:
    """Why these signature headers cannot be PayPal's, or None: checked before any call."""
    if proof["auth_algo"] != "SHA256withRSA":
        return "unexpected auth algorithm"
    cert = urlsplit(proof["cert_url"])
    host = (cert.hostname or "").lower()
    if cert.scheme != "https" or not (host == "paypal.com" or host.endswith(".paypal.com")):
        return "certificate not on PayPal's https hosts"
    if not (0 < len(proof["transmission_id"]) <= 100 and 0 < len(proof["transmission_sig"])
            <= 2000):
        return "bad transmission id or signature"
    try:
        sent = datetime.fromisoformat(proof["transmission_time"].replace("Z", "+00:00"))
    except ValueError:
        return "bad transmission time"
    if sent.tzinfo is None:
        return "bad transmission time"
    late, early = TRANSMITTED_WITHIN
    if not now - late <= sent <= now + early:
        return "transmission time out of range"
    return None


class CallBudget:
    """At most `per_minute` calls in any 60 seconds (a moving window, this process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._calls: deque[float] = deque()

    def take(self) -> bool:
        now = time.monotonic()
        while self._calls and self._calls[0] <= now - 60:
            self._calls.popleft()
        if len(self._calls) >= self.per_minute:
            return False
        self._calls.append(now)
        return True


def _value(amount_minor: int, currency: str) -> str:
    return str(Decimal(amount_minor).scaleb(-currency_exponent(currency)))


def _money(amount_minor: int, currency: str) -> dict[str, str]:
    return {"currency_code": currency, "value": _value(amount_minor, currency)}


class PayPalGateway:
    name = "paypal"
    label = "PayPal"
    page = "PayPal's secure page"
    is_test = False

    def __init__(self, settings: Settings) -> None:
        assert settings.paypal_client_id and settings.paypal_client_secret
        self.base = (settings.paypal_api_base or SANDBOX).rstrip("/")
        self.credentials = (settings.paypal_client_id, settings.paypal_client_secret)
        self.webhook_id = settings.paypal_webhook_id
        self.base_url = settings.base_url
        self._token: tuple[str, float] | None = None
        self.verifies = CallBudget(VERIFY_PER_MINUTE)

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None,
                       request_id: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {await self._access_token()}",
                   "Content-Type": "application/json", "Prefer": "return=representation"}
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                response = await client.request(method, f"{self.base}{path}", json=body,
                                                headers=headers)
        except httpx.HTTPError as exc:
            raise GatewayDown(type(exc).__name__) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise GatewayDown(f"PayPal answered {response.status_code}")
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            raise GatewayDown(f"PayPal answered {response.status_code} without JSON") from None
        if not isinstance(answer, dict):
            raise GatewayDown("PayPal answered something other than an object")
        if response.status_code >= 400:
            raise GatewayRefused(str(answer.get("message") or "PayPal refused the request."))
        return answer

    async def _access_token(self) -> str:
        if self._token and self._token[1] > time.monotonic() + 60:
            return self._token[0]
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                response = await client.post(f"{self.base}/v1/oauth2/token",
                                             data={"grant_type": "client_credentials"},
                                             auth=self.credentials)
        except httpx.HTTPError as exc:
            raise GatewayDown(type(exc).__name__) from None
        if response.status_code != 200:
            raise GatewayDown(f"PayPal token request answered {response.status_code}")
        data = response.json()
        self._token = (str(data["access_token"]),
                       time.monotonic() + float(data.get("expires_in", 300)))
        return self._token[0]

    async def create_link(self, *, order: Order, payment: Payment, capture: bool) -> CheckoutLink:
        currency = order.currency
        breakdown = {"item_total": _money(order.subtotal_minor, currency),
                     "shipping": _money(order.shipping_minor, currency),
                     "tax_total": _money(order.tax_minor, currency)}
        body = {
            "intent": "CAPTURE" if capture else "AUTHORIZE",
            "purchase_units": [{
                "reference_id": order.number, "custom_id": str(payment.id),
                "amount": {**_money(order.total_minor, currency), "breakdown": breakdown},
                "items": [{"name": line.name[:127], "quantity": str(line.quantity),
                           "unit_amount": _money(line.unit_price_minor, currency)}
                          for line in order.lines]}],
            "payment_source": {"paypal": {"experience_context": {
                "user_action": "PAY_NOW", "shipping_preference": "NO_SHIPPING",
                "return_url": f"{self.base_url}/pay/done?order={order.number}",
                "cancel_url": f"{self.base_url}/pay/done?order={order.number}&cancelled=1"}}},
        }
        created = await self._request("POST", "/v2/checkout/orders", body,
                                      request_id=f"chatcart-order-{payment.key}")
        approve = next((link["href"] for link in created.get("links", [])
                        if link.get("rel") in ("payer-action", "approve")), None)
        if not approve:
            raise GatewayRefused("PayPal gave no approval link.")
        return CheckoutLink(approve, reference=str(created["id"]))

    async def complete(self, *, payment: Payment, capture: bool) -> GatewayEvent | None:
        """The payer approved: capture (or authorize) the PayPal order now."""
        step = "capture" if capture else "authorize"
        result = await self._request("POST", f"/v2/checkout/orders/{payment.reference}/{step}",
                                     {}, request_id=f"chatcart-{step}-{payment.key}")
        unit = result["purchase_units"][0]["payments"]
        made = (unit.get("captures") or unit.get("authorizations") or [{}])[0]
        amount = made.get("amount", {})
        if made.get("status") not in ("COMPLETED", "CREATED", "PENDING"):
            return GatewayEvent(self.name, f"{step}:{payment.reference}", EventKind.FAILED,
                                str(payment.reference))
        kind = EventKind.PAID if capture else EventKind.AUTHORIZED
        return GatewayEvent(self.name, f"{step}:{payment.reference}", kind,
                            str(payment.reference),
                            parse_amount(amount.get("value", "0"), payment.currency),
                            amount.get("currency_code"),
                            f"{'capture' if capture else 'authorization'}:{made.get('id')}")

    async def parse_webhook(self, headers: Mapping[str, str], body: bytes
                            ) -> list[GatewayEvent]:
        if not self.webhook_id:
            raise BadSignature("PAYPAL_WEBHOOK_ID is not set")
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            proof = {field: lowered[header] for field, header in SIGNATURE_HEADERS.items()}
        except KeyError:
            raise BadSignature("missing PayPal signature headers") from None
        if problem := implausible(proof, datetime.now(UTC)):
            raise BadSignature(problem)
        try:
            event = loads(body)
        except UnreadableJson as unreadable:
            raise BadSignature(f"bad JSON: {unreadable}") from None
        if not (isinstance(event, dict) and isinstance(event.get("id"), str)
                and isinstance(event.get("event_type"), str)
                and isinstance(event.get("resource"), dict)):
            raise BadSignature("not a PayPal event")
        if not self.verifies.take():
            raise WebhookThrottled(60)
        try:
            verdict = await self._request("POST", "/v1/notifications/verify-webhook-signature",
                                          {**proof, "webhook_id": self.webhook_id,
                                           "webhook_event": event})
        except GatewayRefused:
            raise BadSignature("PayPal refused to verify it") from None
        except GatewayDown as down:
            raise BadSignature(f"PayPal could not be asked to verify it ({down})") from None
        if verdict.get("verification_status") != "SUCCESS":
            raise BadSignature("PayPal says the signature is not valid")
        try:
            found = self._event(event["id"], event["event_type"], event["resource"])
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            raise BadSignature("not a PayPal event we can read") from None
        return [found] if found else []

    def _event(self, event_id: str, kind: str, resource: dict[str, Any]) -> GatewayEvent | None:
        related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
        amount = resource.get("amount") or {}
        currency = amount.get("currency_code")
        if kind == "CHECKOUT.ORDER.APPROVED":
            return GatewayEvent(self.name, event_id, EventKind.APPROVED, str(resource["id"]))
        if kind in ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.AUTHORIZATION.CREATED"):
            captured = kind == "PAYMENT.CAPTURE.COMPLETED"
            return GatewayEvent(
                self.name, event_id, EventKind.PAID if captured else EventKind.AUTHORIZED,
                str(related.get("order_id", "")),
                parse_amount(amount.get("value", "0"), currency or "EUR"), currency,
                f"{'capture' if captured else 'authorization'}:{resource['id']}")
        if kind in ("PAYMENT.CAPTURE.DENIED", "CHECKOUT.PAYMENT-APPROVAL.REVERSED"):
            return GatewayEvent(self.name, event_id, EventKind.FAILED,
                                str(related.get("order_id") or resource.get("id")))
        if kind == "PAYMENT.CAPTURE.REFUNDED":
            total = ((resource.get("seller_payable_breakdown") or {})
                     .get("total_refunded_amount") or amount)
            capture = next((link["href"].rstrip("/").rsplit("/", 1)[1]
                            for link in resource.get("links", []) if link.get("rel") == "up"),
                           "")
            return GatewayEvent(self.name, event_id, EventKind.REFUNDED,
                                str(related.get("order_id", "")),
                                parse_amount(total.get("value", "0"),
                                             total.get("currency_code") or "EUR"),
                                total.get("currency_code"), f"capture:{capture}")
        return None

    async def close(self, *, payment: Payment) -> None:
        return None  # an unapproved PayPal order lapses by itself (3 hours)

    async def capture(self, *, payment: Payment) -> None:
        authorization = self._id(payment, "authorization")
        result = await self._request("POST", f"/v2/payments/authorizations/{authorization}/"
                                     "capture", {}, request_id=f"chatcart-capture-{payment.key}")
        payment.intent = f"capture:{result['id']}"

    async def refund(self, *, payment: Payment, amount_minor: int) -> None:
        capture = self._id(payment, "capture")
        await self._request("POST", f"/v2/payments/captures/{capture}/refund",
                            {"amount": _money(amount_minor, payment.currency)},
                            request_id=f"chatcart-refund-{payment.key}-"
                                       f"{payment.refunded_minor + amount_minor}")

    async def void(self, *, payment: Payment) -> None:
        authorization = self._id(payment, "authorization")
        await self._request("POST", f"/v2/payments/authorizations/{authorization}/void", {},
                            request_id=f"chatcart-void-{payment.key}")

    @staticmethod
    def _id(payment: Payment, kind: str) -> str:
        prefix, _, value = (payment.intent or "").partition(":")
        if prefix != kind or not value:
            raise GatewayRefused(f"PayPal has not reported this payment's {kind} yet.")
        return value
