"""Paying with Stripe through the web chat. Checkout Sessions (which localstripe lacks) come
from a recorded-response double; PaymentIntent captures, cancels and refunds go on to a
real localstripe server started for the tests. Webhook events are signed as Stripe signs
them: confirmation, replays, forgeries, amounts, out-of-order refunds, capture at
shipment, cancel with refund, and a Stripe outage at checkout.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import select

from core.audit.actor import Actor
from core.orders.models import Order
from core.orders.states import OrderStatus
from core.payments import service as payments
from core.payments.models import Payment, PaymentStatus
from tests.conftest import make_settings
from tests.e2e.checkout_steps import place, to_review
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper
from tests.support.localstripe import LocalStripe
from tests.support.stripe_double import FakeStripe

WEBHOOK_SECRET = "whsec_test_0123456789abcdef"


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    with LocalStripe() as server:
        yield server


@pytest.fixture
async def stripe_api(localstripe: LocalStripe) -> AsyncIterator[FakeStripe]:
    async with FakeStripe(upstream=localstripe.url) as api:
        yield api  # type: ignore[misc]


def _settings(database_url, tmp_path, stripe_api, **extra):
    return make_settings(database_url, tmp_path / "data", STRIPE_SECRET_KEY="sk_test_chatcart",
                         STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_BASE=stripe_api.url,
                         PUBLIC_BASE_URL="https://shop.example", **extra)


@pytest.fixture
async def client(database_url, tmp_path, trained, stripe_api):
    async with served(_settings(database_url, tmp_path, stripe_api), trained) as http:
        yield http


async def _event(client, event_type: str, data: dict, event_id: str | None = None,
                 secret: str = WEBHOOK_SECRET) -> httpx.Response:
    body, headers = FakeStripe.signed(secret, event_type, data, event_id)
    return await client.post("/payments/stripe/webhook", content=body, headers=headers)


def _completed(session: dict, **changes) -> dict:
    return {**session, "payment_status": "paid", "status": "complete",
            "payment_intent": "pi_test_001", **changes}


async def test_pay_on_stripe_checkout_and_be_confirmed_once(client, stripe_api: FakeStripe):
    ann = Shopper(client)
    number = await place(ann, "DE")
    (link,) = [link for reply in ann.last for link in reply["links"]]
    (call,) = stripe_api.of("checkout/sessions")
    session = stripe_api.sessions[link["url"].rsplit("/", 1)[1]]
    assert link["url"].startswith("https://checkout.stripe.com/")
    assert call.params["_idempotency_key"].startswith("chatcart-session-")
    assert call.params["mode"] == "payment" and call.params["client_reference_id"] == number
    assert call.params["metadata"]["capture"] == "automatic"
    assert session["amount_total"] == 2990 and session["currency"] == "eur"
    assert call.params["customer_email"] == "ann@example.com"
    assert "card" not in str(call.params), "no card data ever passes through us"

    event_id = "evt_completed_1"
    assert (await _event(client, "checkout.session.completed", _completed(session),
                         event_id)).status_code == 200
    text = (await ann.news())[0]["text"]
    assert f"Order {number} is confirmed" in text and "Kaiserstraße 5, 10115 Berlin" in text
    replay = await _event(client, "checkout.session.completed", _completed(session), event_id)
    assert replay.status_code == 200
    assert await ann.news(wait=0.3) == []
    async with client.shop.transaction() as db:  # type: ignore[attr-defined]
        payment = await db.scalar(select(Payment))
        assert payment.status is PaymentStatus.CAPTURED and payment.intent == "pi_test_001"


async def test_forged_unsigned_and_wrong_amount_events_change_nothing(
        client, stripe_api: FakeStripe, localstripe: LocalStripe):
    ann = Shopper(client)
    number = await place(ann, "DE")
    session = next(iter(stripe_api.sessions.values()))
    intent = localstripe.payment_intent(100, "eur", manual=False)
    forged = await _event(client, "checkout.session.completed", _completed(session),
                          secret="whsec_someone_else")
    assert forged.status_code == 400
    unsigned = await client.post("/payments/stripe/webhook", json={"type": "x"})
    assert unsigned.status_code == 400
    assert await ann.news(wait=0.3) == []
    cheaper = await _event(client, "checkout.session.completed",
                           _completed(session, amount_total=100, payment_intent=intent))
    assert cheaper.status_code == 200
    async with client.shop.transaction() as db:  # type: ignore[attr-defined]
        order = await db.scalar(select(Order).where(Order.number == number))
        assert order.status is OrderStatus.PENDING_PAYMENT, "not paid by a wrong amount"
    charge = localstripe.get(f"payment_intents/{intent}")["charges"]["data"][0]  # type: ignore[index]
    assert charge["amount_refunded"] == 100, "the wrong amount went back"
    notice = (await ann.news())[0]
    assert "didn't match" in notice["text"]
    assert notice["buttons"][0] == {"label": "Pay again", "action": f"repay:{number}"}


async def test_a_refund_that_overtakes_its_payment_is_applied_when_stripe_retries(
        client, stripe_api: FakeStripe):
    ann = Shopper(client)
    number = await place(ann, "DE")
    session = next(iter(stripe_api.sessions.values()))
    refund = {"id": "ch_1", "object": "charge", "payment_intent": "pi_test_001",
              "amount_refunded": 1000, "currency": "eur"}
    early = await _event(client, "charge.refunded", refund, "evt_refund_1")
    assert early.status_code == 503, "not known yet: Stripe will retry"
    await _event(client, "checkout.session.completed", _completed(session))
    retried = await _event(client, "charge.refunded", refund, "evt_refund_1")
    assert retried.status_code == 200
    again = await _event(client, "charge.refunded", refund, "evt_refund_1")
    assert again.status_code == 200
    async with client.shop.transaction() as db:  # type: ignore[attr-defined]
        order = await db.scalar(select(Order).where(Order.number == number))
        assert order.status is OrderStatus.PARTIALLY_REFUNDED and order.refunded_minor == 1000


async def test_a_cancel_refunds_through_stripe_with_an_idempotency_key(
        client, stripe_api: FakeStripe, localstripe: LocalStripe):
    ann = Shopper(client)
    number = await place(ann, "DE")
    session = next(iter(stripe_api.sessions.values()))
    intent = localstripe.payment_intent(2990, "eur", manual=False)
    await _event(client, "checkout.session.completed", _completed(session,
                                                                  payment_intent=intent))
    await ann.news()
    await ann.say(f"cancel order {number}")
    assert "you paid will be refunded" in ann.text  # a paid order: the shopper confirms
    await ann.press("Yes, cancel")
    assert "€29.90 is being refunded" in ann.text
    (refund,) = stripe_api.of("refunds")
    assert refund.params["payment_intent"] == intent and refund.params["amount"] == "2990"
    assert refund.params["_idempotency_key"].startswith("chatcart-refund-")
    charge = localstripe.get(f"payment_intents/{intent}")["charges"]["data"][0]  # type: ignore[index]
    assert charge["amount_refunded"] == 2990, "the money really went back (localstripe)"
    # Stripe then reports the refund it made: already known, nothing changes.
    reported = await _event(client, "charge.refunded", {
        "id": "ch_1", "object": "charge", "payment_intent": intent,
        "amount_refunded": 2990, "currency": "eur"})
    assert reported.status_code == 200
    async with client.shop.transaction() as db:  # type: ignore[attr-defined]
        order = await db.scalar(select(Order).where(Order.number == number))
        assert order.status is OrderStatus.REFUNDED and order.refunded_minor == 2990


async def test_a_stripe_outage_at_checkout_leaves_the_cart_ready_to_try_again(
        client, stripe_api: FakeStripe):
    ann = Shopper(client)
    stripe_api.fail("checkout", times=3, status=503)  # the library retries twice itself
    await to_review(ann, "DE")
    await ann.press("Pay €29.90")
    assert "payment service didn't answer" in ann.text
    async with client.shop.transaction() as db:  # type: ignore[attr-defined]
        assert await db.scalar(select(Order)) is None, "no order was left half-made"
    await ann.press("Pay €29.90")
    assert "reserved for you" in ann.text


async def test_authorize_now_and_capture_at_shipment(database_url, tmp_path, trained,
                                                     stripe_api: FakeStripe,
                                                     localstripe: LocalStripe):
    settings = _settings(database_url, tmp_path, stripe_api, PAYMENT_CAPTURE="at_shipment")
    async with served(settings, trained) as client:
        shop = client.shop  # type: ignore[attr-defined]
        ann = Shopper(client)
        number = await place(ann, "DE")
        (call,) = stripe_api.of("checkout/sessions")
        assert call.params["payment_intent_data"]["capture_method"] == "manual"
        session = next(iter(stripe_api.sessions.values()))
        intent = localstripe.payment_intent(2990, "eur", manual=True)
        assert localstripe.get(f"payment_intents/{intent}")["status"] == "requires_capture"
        held = _completed(session, payment_status="unpaid", payment_intent=intent)
        assert (await _event(client, "checkout.session.completed", held)).status_code == 200
        assert "charged when the order ships" in (await ann.news())[0]["text"]
        async with shop.transaction() as db:
            order = await db.scalar(select(Order).where(Order.number == number))
            assert order.status is OrderStatus.AUTHORIZED
            await payments.ship(session=db, order=order, gateways=shop.gateways,
                                actor=Actor.system("test"), carrier="DHL",
                                tracking_number="JD014600006281230704")
        (capture,) = stripe_api.of(f"payment_intents/{intent}/capture")
        assert capture.params["_idempotency_key"].startswith("chatcart-capture-")
        assert localstripe.get(f"payment_intents/{intent}")["status"] == "succeeded"
        async with shop.transaction() as db:
            order = await db.scalar(select(Order).where(Order.number == number))
            assert order.status is OrderStatus.SHIPPED, "captured, then shipped"


async def test_after_an_expired_session_the_shopper_pays_again_with_a_new_link(
        client, stripe_api: FakeStripe):
    ann = Shopper(client)
    number = await place(ann, "DE")
    first = next(iter(stripe_api.sessions.values()))
    expired = {**first, "status": "expired"}
    assert (await _event(client, "checkout.session.expired", expired)).status_code == 200
    notice = (await ann.news())[0]
    assert "didn't go through" in notice["text"]
    await ann.act(notice["buttons"][0]["action"])
    assert f"new link to pay €29.90 for order {number}" in ann.text
    (link,) = [link for reply in ann.last for link in reply["links"]]
    assert first["id"] not in link["url"] and len(stripe_api.sessions) == 2
    foreign = {**first, "id": "cs_test_other_shop", "metadata": {}}
    ignored = await _event(client, "checkout.session.completed", _completed(foreign))
    assert ignored.status_code == 200, "another integration's sessions are not ours to retry"


async def test_an_expired_order_closes_its_checkout_session(client, stripe_api: FakeStripe):
    from sqlalchemy import update

    from bot.sweeper import expire_once
    from core.clock import now
    from core.inventory.models import Reservation

    ann = Shopper(client)
    number = await place(ann, "DE")
    session = next(iter(stripe_api.sessions.values()))
    shop = client.shop  # type: ignore[attr-defined]
    async with shop.transaction() as db:
        await db.execute(update(Reservation).values(expires_at=now()))
    assert await expire_once(shop) == [number]
    assert stripe_api.of(f"checkout/sessions/{session['id']}/expire")
    assert stripe_api.sessions[session["id"]]["status"] == "expired"
    async with shop.transaction() as db:
        payment = await db.scalar(select(Payment))
        assert payment.status is PaymentStatus.FAILED
