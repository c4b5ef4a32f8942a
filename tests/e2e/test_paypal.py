"""Paying with PayPal (Orders v2) through the web chat, against a recorded-response double
of PayPal's REST API: approval link, capture on the approved webhook, verified webhooks,
replays, refunds on cancel; and the choice of gateway when there are two.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from core.orders.models import Order
from core.orders.states import OrderStatus
from tests.conftest import make_settings
from tests.e2e.checkout_steps import place
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper
from tests.support.paypal_double import CLIENT_ID, CLIENT_SECRET, FakePayPal


@pytest.fixture
async def paypal_api() -> AsyncIterator[FakePayPal]:
    async with FakePayPal() as api:
        yield api  # type: ignore[misc]


def _settings(database_url, tmp_path, paypal_api, **extra):
    return make_settings(database_url, tmp_path / "data", PAYPAL_CLIENT_ID=CLIENT_ID,
                         PAYPAL_CLIENT_SECRET=CLIENT_SECRET, PAYPAL_API_BASE=paypal_api.url,
                         PAYPAL_WEBHOOK_ID="WH-ID-1", PUBLIC_BASE_URL="https://shop.example",
                         **extra)


@pytest.fixture
async def client(database_url, tmp_path, trained, paypal_api):
    async with served(_settings(database_url, tmp_path, paypal_api), trained) as http:
        yield http


async def _webhook(client, event_type: str, resource: dict, **options) -> httpx.Response:
    body, headers = FakePayPal.webhook(event_type, resource, **options)
    return await client.post("/payments/paypal/webhook", content=body, headers=headers)


async def test_approve_on_paypal_then_the_shop_captures_and_confirms(client, paypal_api):
    ann = Shopper(client)
    number = await place(ann, "IT")
    (link,) = [link for reply in ann.last for link in reply["links"]]
    assert link["url"].startswith("https://www.sandbox.paypal.com/checkoutnow?token=")
    (created,) = paypal_api.of("v2/checkout/orders")
    unit = created.params["purchase_units"][0]
    assert created.params["intent"] == "CAPTURE" and unit["reference_id"] == number
    assert unit["amount"]["value"] == "29.90" and unit["amount"]["currency_code"] == "EUR"
    assert unit["amount"]["breakdown"]["shipping"]["value"] == "4.90"
    assert created.params["_request_id"].startswith("chatcart-order-")
    paypal_order = link["url"].rsplit("=", 1)[1]

    approved = {"id": paypal_order, "status": "APPROVED", "intent": "CAPTURE"}
    response = await _webhook(client, "CHECKOUT.ORDER.APPROVED", approved, event_id="WH-A1")
    assert response.status_code == 200
    (capture,) = paypal_api.of(f"v2/checkout/orders/{paypal_order}/capture")
    assert capture.params["_request_id"].startswith("chatcart-capture-")
    text = (await ann.news())[0]["text"]
    assert f"Order {number} is confirmed" in text and "Via Roma 1, 00118 Roma, Italy" in text

    again = await _webhook(client, "CHECKOUT.ORDER.APPROVED", approved, event_id="WH-A1")
    assert again.status_code == 200
    assert len(paypal_api.of(f"v2/checkout/orders/{paypal_order}/capture")) == 1
    assert await ann.news(wait=0.3) == []

    await ann.say(f"cancel order {number}")
    assert "you paid will be refunded" in ann.text  # a paid order: the shopper confirms
    await ann.press("Yes, cancel")
    assert "€29.90 is being refunded" in ann.text
    (refund,) = [c for c in paypal_api.calls if c.method.endswith("/refund")]
    assert refund.params["amount"] == {"currency_code": "EUR", "value": "29.90"}
    async with client.shop.transaction() as db:  # type: ignore[attr-defined]
        order = await db.scalar(select(Order).where(Order.number == number))
        assert order.status is OrderStatus.REFUNDED


async def test_a_webhook_paypal_does_not_vouch_for_changes_nothing(client, paypal_api):
    ann = Shopper(client)
    number = await place(ann, "IT")
    paypal_order = next(iter(paypal_api.orders))
    forged = await _webhook(client, "CHECKOUT.ORDER.APPROVED",
                            {"id": paypal_order, "status": "APPROVED"}, signature="forged")
    assert forged.status_code == 400
    unsigned = await client.post("/payments/paypal/webhook", json={"event_type": "x"})
    assert unsigned.status_code == 400
    assert not [c for c in paypal_api.calls if c.method.endswith("/capture")]
    async with client.shop.transaction() as db:  # type: ignore[attr-defined]
        order = await db.scalar(select(Order).where(Order.number == number))
        assert order.status is OrderStatus.PENDING_PAYMENT


async def test_with_two_gateways_the_shopper_chooses(database_url, tmp_path, trained,
                                                     paypal_api):
    from tests.support.stripe_double import FakeStripe

    async with FakeStripe() as stripe_api:
        settings = _settings(database_url, tmp_path, paypal_api,
                             STRIPE_SECRET_KEY="sk_test_chatcart", STRIPE_WEBHOOK_SECRET="whsec_x",
                             STRIPE_API_BASE=stripe_api.url)
        async with served(settings, trained) as http:
            ann = Shopper(http)
            await place(ann, "IT", pay="Pay €29.90 with PayPal")
            assert "on PayPal's secure page" in ann.text
            assert paypal_api.of("v2/checkout/orders") and not stripe_api.calls
