"""Checkout and payment through the web chat with the offline test gateway: the whole
journey a demo shopper takes, with wrong answers corrected on the way.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.sweeper import expire_once
from core.inventory.models import StockItem
from core.orders.models import Order
from core.orders.states import OrderStatus
from core.payments.models import Payment, PaymentStatus
from tests.e2e.checkout_steps import to_review
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper


@pytest.fixture
async def client(settings, trained):
    async with served(settings, trained) as http:
        yield http


def _blue_mug_stock():
    from core.catalog.models import Product

    return select(StockItem.on_hand - StockItem.reserved).join(
        Product, Product.id == StockItem.product_id).where(Product.sku == "MUG-BLUE-350")


async def test_a_guest_checks_out_corrects_mistakes_pays_and_is_confirmed(client):
    ann = Shopper(client)
    await ann.say("add 2 blue mugs")
    await ann.press("Checkout")
    assert "what email address" in ann.text
    await ann.say("ann at example")
    assert "does not look right" in ann.text and "type it again" in ann.text
    await ann.say("ann@example.com")
    assert "addressed to" in ann.text
    await ann.say("Ann Lee")
    await ann.say("12 Rue de Rivoli")
    await ann.say("Paris")
    await ann.say("Frankreich")
    assert "I don't know the country" in ann.text
    await ann.say("France")
    await ann.say("7500")
    assert "isn't a postal code in France: it should be 5 digits" in ann.text
    await ann.say("75001")
    await ann.say("123")
    assert "phone number doesn't look right for France" in ann.text
    await ann.say("back")                       # back to the postal code, kept the rest
    assert "postal code" in ann.text
    await ann.say("75001")
    await ann.say("06 12 34 56 78")
    await ann.press("Same as shipping")
    assert "Standard · €4.90" in ann.buttons()[0]
    await ann.press("Standard")
    review = ann.text
    assert "2 × Blue mug = €25.00" in review and "Standard shipping: €4.90" in review
    assert "Total: €29.90" in review
    assert "Ship to: Ann Lee, 12 Rue de Rivoli, 75001 Paris, France, +33612345678" in review
    await ann.press("Pay €29.90")
    assert "reserved for you for 30 minutes" in ann.text and "test payments only" in ann.text
    number = ann.text.split("Order ")[1].split(" ")[0]

    page = await client.get(ann.payment_path())
    assert page.status_code == 200 and "TEST PAYMENT" in page.text and number in page.text
    assert "2 × Blue mug" in page.text and "€29.90" in page.text
    paid = await client.post(ann.payment_path(), data={"outcome": "pay"})
    assert paid.status_code == 200 and "Test payment done" in paid.text

    confirmation = await ann.news()
    text = confirmation[0]["text"]
    assert f"Order {number} is confirmed" in text and "Payment received" in text
    assert "2 × Blue mug (€12.50) = €25.00" in text and "Total: €29.90" in text
    assert "Ships to: Ann Lee, 12 Rue de Rivoli, 75001 Paris, France" in text

    await ann.say("my orders")
    assert number in ann.text and "paid" in ann.text
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        order = await session.scalar(select(Order).where(Order.number == number))
        assert order.status is OrderStatus.PAID and order.email == "ann@example.com"
        assert "Rivoli" not in order.shipping_sealed and "+336" not in order.shipping_sealed
        payment = await session.scalar(select(Payment).where(Payment.order_id == order.id))
        assert payment.status is PaymentStatus.CAPTURED and payment.captured_minor == 2990


async def test_a_replayed_payment_and_a_forged_link_change_nothing(client):
    ann = Shopper(client)
    await to_review(ann)
    await ann.press("Pay €29.90")
    path = ann.payment_path()
    first = await client.post(path, data={"outcome": "pay"})
    again = await client.post(path, data={"outcome": "pay"})
    assert first.status_code == again.status_code == 200
    assert len(await ann.news()) == 1
    assert await ann.news(wait=0.3) == [], "one confirmation, not two"
    forged = await client.get(path[:-3] + "xyz")
    assert forged.status_code == 404 and "not valid" in forged.text
    assert (await client.post(path[:-3] + "xyz", data={"outcome": "pay"})).status_code == 404
    settled = await client.get(path)
    assert "already settled" in settled.text


async def test_a_declined_payment_can_be_tried_again(client):
    ann = Shopper(client)
    await to_review(ann)
    await ann.press("Pay €29.90")
    path = ann.payment_path()
    declined = await client.post(path, data={"outcome": "decline"})
    assert "declined" in declined.text
    notice = (await ann.news())[0]
    assert "didn't go through" in notice["text"] and "nothing was charged" in notice["text"]
    await ann.act(notice["buttons"][0]["action"])  # "Pay again": the test page takes it again
    assert ann.payment_path() == path
    assert (await client.post(path, data={"outcome": "pay"})).status_code == 200
    confirmation = (await ann.news())[0]["text"]
    assert "is confirmed" in confirmation and "A TEST payment: no money moved" in confirmation


async def test_an_unpaid_order_expires_its_stock_returns_and_the_shopper_is_told(client):
    ann = Shopper(client)
    await to_review(ann)
    await ann.press("Pay €29.90")
    number = ann.text.split("Order ")[1].split(" ")[0]
    shop = client.shop  # type: ignore[attr-defined]
    async with shop.transaction() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        from sqlalchemy import update

        from core.clock import now
        from core.inventory.models import Reservation
        await session.execute(update(Reservation).where(Reservation.order_id == order.id)
                              .values(expires_at=now()))
    assert await expire_once(shop) == [number]
    notice = (await ann.news(wait=6))[0]["text"]  # the relay looks every 3 s
    assert f"Order {number} was cancelled" in notice and "didn't arrive in time" in notice
    paid_late = await client.post(ann.payment_path(), data={"outcome": "pay"})
    assert paid_late.status_code == 200
    returned = (await ann.news())[0]["text"]
    assert "arrived after the order had been cancelled" in returned
    async with shop.transaction() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        assert order.status is OrderStatus.CANCELLED
        payment = await session.scalar(select(Payment).where(Payment.order_id == order.id))
        assert payment.status is PaymentStatus.REFUNDED


async def test_a_paid_order_cancelled_in_chat_is_refunded_and_restocked(client):
    ann = Shopper(client)
    shop = client.shop  # type: ignore[attr-defined]
    async with shop.transaction() as session:
        before = await session.scalar(_blue_mug_stock())
    await to_review(ann)
    await ann.press("Pay €29.90")
    number = ann.text.split("Order ")[1].split(" ")[0]
    await client.post(ann.payment_path(), data={"outcome": "pay"})
    await ann.news()
    await ann.say(f"cancel my order {number}")
    assert f"Cancel order {number}? The €29.90 you paid will be refunded." in ann.text
    await ann.press("Yes, cancel")                       # a paid order is cancelled once asked
    assert f"Order {number} is cancelled" in ann.text and "€29.90 is being refunded" in ann.text
    async with shop.transaction() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        assert order.status is OrderStatus.REFUNDED and order.refunded_minor == 2990
        after = await session.scalar(_blue_mug_stock())
    assert after == before


async def test_two_shoppers_race_for_the_last_unit(client):
    shop = client.shop  # type: ignore[attr-defined]
    ann, bob = Shopper(client), Shopper(client)
    for shopper in (ann, bob):
        await to_review(shopper)
    async with shop.transaction() as session:
        from sqlalchemy import update

        from core.catalog.models import Product
        product = await session.scalar(select(Product).where(Product.sku == "MUG-BLUE-350"))
        await session.execute(update(StockItem).where(StockItem.product_id == product.id)
                              .values(on_hand=2, reserved=0))
    results = await asyncio.gather(ann.press("Pay €29.90"), bob.press("Pay €29.90"))
    texts = ["\n".join(r["text"] for r in replies) for replies in results]
    won = [t for t in texts if "reserved for you" in t]
    assert len(won) == 1, texts
    loser = bob if "reserved for you" in texts[0] else ann
    assert "Blue mug is sold out" in loser.text, "the other is told exactly why"
    await loser.say("what's in my cart")
    assert "2 × Blue mug" in loser.text, "and nothing of theirs was lost"


async def test_a_returning_account_gets_its_email_and_address_offered(client, caplog):
    import logging
    import re

    caplog.set_level(logging.INFO, logger="chatcart.mail")
    ann = Shopper(client)
    await ann.say("/link")
    await ann.say("ann@example.com")
    code = re.search(r"Your code is (\d{6})", caplog.text).group(1)
    await ann.say(code)
    assert "linked to ann@example.com" in ann.text
    await ann.say("add 2 blue mugs")
    await ann.press("Checkout")
    assert "addressed to" in ann.text, "no email asked: the account has one"
    for answer in ("Ann Lee", "12 Rue de Rivoli", "Paris", "France", "75001",
                   "06 12 34 56 78"):
        await ann.say(answer)
    await ann.press("Same as shipping")
    await ann.press("Standard")
    await ann.press("Pay €29.90")
    await client.post(ann.payment_path(), data={"outcome": "pay"})
    await ann.news()

    await ann.say("add a blue mug")
    await ann.press("Checkout")
    assert "Where should it go?" in ann.text
    await ann.press("Ann Lee, 12 Rue de Rivoli, Paris")
    await ann.press("Standard")
    assert "Ship to: Ann Lee, 12 Rue de Rivoli, 75001 Paris, France" in ann.text
    assert "Receipt to: ann@example.com" in ann.text


async def test_agent_in_an_email_or_a_street_is_checkout_data_and_asking_for_one_still_works(
        client):
    from core.support.models import HandoffRequest

    async def requests() -> int:
        async with client.shop.transaction() as session:
            return len(list(await session.scalars(select(HandoffRequest))))

    ann = Shopper(client)
    await ann.say("add 2 blue mugs")
    await ann.press("Checkout")
    await ann.say("agent.smith@example.com")
    assert "addressed to" in ann.text
    await ann.say("Ann Agent")
    await ann.say("12 Agent Street")
    assert "Which town or city?" in ann.text
    assert await requests() == 0
    await ann.say("talk to an agent")                 # mid-checkout, a person is asked for
    assert "online" in ann.text and await requests() == 1
    await ann.say("Paris")                            # and the checkout goes on meanwhile
    assert "Which country?" in ann.text
    await ann.say("France")
    await ann.say("75001")
    await ann.say("06 12 34 56 78")
    await ann.press("Same as shipping")
    await ann.press("Standard")
    assert "Ship to: Ann Agent, 12 Agent Street, 75001 Paris, France" in ann.text
