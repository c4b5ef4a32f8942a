"""Stripe through the official library: a Checkout Session is the payment link, its
webhook events (signature checked) say what happened, and the PaymentIntent behind it
is captured, refunded or cancelled. Every write carries an idempotency key, so a call
retried after a timeout never charges or refunds twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import stripe

from core.bounded_json import loads
from core.config import Settings
from core.orders.models import Order
from core.payments.gateway import (
    BadSignature,
    CheckoutLink,
    EventKind,
    GatewayDown,
    GatewayEvent,
    GatewayRefused,
)
from core.payments.models import Payment

# What Stripe says when, as our events. Checkout Sessions report the payment; charges
# report refunds (with the cumulative amount refunded).
SESSION_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded",
                  "checkout.session.async_payment_failed", "checkout.session.expired"}


class StripeGateway:
    name = "stripe"
    label = "Stripe"
    page = "Stripe's secure page"
    is_test = False

    def __init__(self, settings: Settings) -> None:
        assert settings.stripe_secret_key
        options: dict[str, Any] = {}
        if settings.stripe_api_base:
            options["base_addresses"] = {"api": settings.stripe_api_base.rstrip("/")}
        self.client = stripe.StripeClient(settings.stripe_secret_key,
                                          http_client=stripe.HTTPXClient(),
                                          max_network_retries=2, **options)
        self.webhook_secret = settings.stripe_webhook_secret
        self.base_url = settings.base_url
        # Stripe keeps a session open 30 minutes to 24 hours.
        self.minutes = min(max(30, settings.reservation_minutes), 24 * 60)

    async def create_link(self, *, order: Order, payment: Payment, capture: bool) -> CheckoutLink:
        currency = order.currency.lower()
        items: list[dict[str, Any]] = [
            {"quantity": line.quantity, "price_data": {
                "currency": currency, "unit_amount": line.unit_price_minor,
                "product_data": {"name": line.name}}} for line in order.lines]
        for label, amount in (("Shipping", order.shipping_minor), ("Tax", order.tax_minor)):
            if amount:
                items.append({"quantity": 1, "price_data": {
                    "currency": currency, "unit_amount": amount,
                    "product_data": {"name": label}}})
        params: dict[str, Any] = {
            "mode": "payment", "line_items": items, "client_reference_id": order.number,
            "metadata": {"order": order.number, "payment": str(payment.id),
                         "capture": "automatic" if capture else "manual"},
            "payment_intent_data": {"metadata": {"chatcart_order": order.number}},
            "success_url": f"{self.base_url}/pay/done?order={order.number}",
            "cancel_url": f"{self.base_url}/pay/done?order={order.number}&cancelled=1",
            # From the payment's own creation, so a retried call sends the same parameters.
            "expires_at": int((payment.created_at + timedelta(minutes=self.minutes))
                              .timestamp()),
        }
        if order.email:
            params["customer_email"] = order.email
        if not capture:
            params["payment_intent_data"]["capture_method"] = "manual"
        session = await _call(self.client.v1.checkout.sessions.create_async(
            params, {"idempotency_key": f"chatcart-session-{payment.key}"}))
        return CheckoutLink(str(session.url), reference=str(session.id),
                            intent=_id(getattr(session, "payment_intent", None)))

    async def parse_webhook(self, headers: Mapping[str, str], body: bytes
                            ) -> list[GatewayEvent]:
        if not self.webhook_secret:
            raise BadSignature("STRIPE_WEBHOOK_SECRET is not set")
        header = headers.get("Stripe-Signature")
        if not header or not header.isascii():
            raise BadSignature("no Stripe-Signature header")
        try:
            stripe.WebhookSignature.verify_header(body.decode(), header, self.webhook_secret,
                                                  tolerance=300)
        except (stripe.SignatureVerificationError, ValueError, IndexError) as exc:
            raise BadSignature(str(exc)[:120]) from None
        # Signed by Stripe from here on, but still read with care: an odd event is refused
        # (400) rather than failing inside the shop.
        try:
            event = loads(body)
            kind, data = str(event["type"]), event["data"]["object"]
            event_id = event["id"]
            if not isinstance(data, dict) or not isinstance(event_id, str):
                raise TypeError("an event's object and id are an object and a string")
            found = self._event(event_id, kind, data)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BadSignature(f"not a Stripe event we can read: {str(exc)[:80]}") from None
        return [found] if found is not None else []

    def _event(self, event_id: str, kind: str, data: dict[str, Any]) -> GatewayEvent | None:
        if kind in SESSION_EVENTS:
            if "payment" not in (data.get("metadata") or {}):
                return None  # a session of another integration on the same account
            amount, currency = data.get("amount_total"), str(data.get("currency", "")).upper()
            if amount is not None and type(amount) is not int:
                raise TypeError("amount_total is not a whole number")
            intent = _id(data.get("payment_intent"))
            if kind == "checkout.session.completed" and data.get("payment_status") == "unpaid":
                manual = (data.get("metadata") or {}).get("capture") == "manual"
                if not manual:
                    return None   # a delayed method: async_payment_succeeded follows
                outcome = EventKind.AUTHORIZED
            elif kind in ("checkout.session.completed",
                          "checkout.session.async_payment_succeeded"):
                outcome = EventKind.PAID
            else:
                outcome = EventKind.FAILED
            if not isinstance(data.get("id"), str):
                raise KeyError("id")
            return GatewayEvent(self.name, event_id, outcome, data["id"], amount, currency,
                                intent)
        if kind == "charge.refunded":
            refunded = data.get("amount_refunded", 0)
            if type(refunded) is not int:
                raise TypeError("amount_refunded is not a whole number")
            return GatewayEvent(self.name, event_id, EventKind.REFUNDED, "", refunded,
                                str(data.get("currency", "")).upper(),
                                _id(data.get("payment_intent")))
        return None

    async def complete(self, *, payment: Payment, capture: bool) -> GatewayEvent | None:
        return None  # the payment is taken on the hosted page itself

    async def close(self, *, payment: Payment) -> None:
        try:
            await _call(self.client.v1.checkout.sessions.expire_async(str(payment.reference)))
        except GatewayRefused:
            pass  # already expired or completed: Stripe's own events say which

    async def capture(self, *, payment: Payment) -> None:
        await _call(self.client.v1.payment_intents.capture_async(
            _intent(payment), options={"idempotency_key": f"chatcart-capture-{payment.key}"}))

    async def refund(self, *, payment: Payment, amount_minor: int) -> None:
        key = f"chatcart-refund-{payment.key}-{payment.refunded_minor + amount_minor}"
        await _call(self.client.v1.refunds.create_async(
            {"payment_intent": _intent(payment), "amount": amount_minor},
            {"idempotency_key": key}))

    async def void(self, *, payment: Payment) -> None:
        await _call(self.client.v1.payment_intents.cancel_async(
            _intent(payment), options={"idempotency_key": f"chatcart-void-{payment.key}"}))


def _id(value: Any) -> str | None:
    if value is None:
        return None
    return str(value if isinstance(value, str) else value.get("id"))


def _intent(payment: Payment) -> str:
    if not payment.intent:
        raise GatewayRefused("Stripe has not reported this payment's PaymentIntent yet.")
    return payment.intent


async def _call(request: Any) -> Any:
    try:
        return await request
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise GatewayDown(type(exc).__name__) from None
    except stripe.APIError as exc:
        if (exc.http_status or 500) >= 500:
            raise GatewayDown(type(exc).__name__) from None
        raise GatewayRefused(exc.user_message or "Stripe refused the request.") from None
    except stripe.StripeError as exc:
        raise GatewayRefused(exc.user_message or "Stripe refused the request.") from None
