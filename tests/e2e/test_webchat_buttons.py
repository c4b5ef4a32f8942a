"""Whole journeys through the web chat JSON API, pressing buttons as a shopper would."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import func, select

from bot.server import create_app
from bot.turn import Understanding
from core.carts import service as carts
from core.catalog import service as catalog
from core.catalog.models import ProductStatus
from core.orders import service as orders
from core.outbox import service as outbox
from core.support.models import HandoffRequest
from tests import factories
from tests.e2e.webchat import Shopper
from tests.factories import ADMIN


class NoIdeaNlu:
    """Understands nothing: these journeys use buttons only."""

    async def understand(self, text: str) -> Understanding:
        return Understanding(None, 0.0)

    async def refresh_catalog(self, shop) -> None:
        return None


@pytest.fixture
async def client(shop, settings):
    async with shop.transaction() as session:
        for n in range(8):
            await factories.product(session, name=f"Mug {n + 1}", price=1000 + n * 100,
                                    stock=5, category="Kitchen > Mugs")
        await factories.product(session, name="Desk lamp", price=7900, stock=2,
                                category="Home > Lamps")
    app = create_app(settings, shop, nlu=NoIdeaNlu(), sweep_seconds=3600)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            http.shop = shop  # type: ignore[attr-defined] - for the outbox test
            yield http


async def test_browse_a_category_page_through_it_open_a_product_and_fill_the_cart(client):
    ann = Shopper(client)
    await ann.say("/start")
    assert "Welcome" in ann.text and "Browse the shop" in ann.buttons()
    await ann.press("Browse the shop")
    assert ann.buttons()[:2] == ["Home (1)", "Kitchen (8)"]
    await ann.press("Kitchen")
    assert "Kitchen (8 in all, page 1 of 2)" in ann.text
    assert "1. Mug 1 — €10.00" in ann.text
    await ann.press("Next ▶")
    assert "page 2 of 2" in ann.text and "7. Mug 7" in ann.text
    await ann.press("◀ Previous")
    await ann.press("Mug 3")
    card = ann.last[0]
    assert card["text"].startswith("Mug 3 — €12.00") and "Only 5 left" in card["text"]
    await ann.press("Add to cart")
    assert "Added 1 × Mug 3" in ann.text and "Total: €12.00 (1 item)" in ann.text
    await ann.press("+")
    assert "Mug 3: now 2" in ann.text and "Total: €24.00 (2 items)" in ann.text
    await ann.press("+")
    await ann.press("− Mug 3")
    assert "Total: €24.00 (2 items)" in ann.text
    await ann.press("Remove")
    assert "Removed Mug 3" in ann.text and "Your cart is empty." in ann.text


async def test_the_cart_never_goes_past_the_stock(shop, client):
    async with shop.transaction() as session:
        lamp = await factories.product(session, name="Last lamp", stock=1)
    bob = Shopper(client)
    await bob.act(f"add:{lamp.id}:1")
    assert "Total: €12.50 (1 item)" in bob.text
    await bob.press("+")
    assert bob.text == "Sorry, only 1 of Last lamp left."
    await bob.act("cart")
    assert "1 × Last lamp" in bob.text


async def test_carts_belong_to_their_own_chats(client):
    ann, bob = Shopper(client), Shopper(client)
    await ann.act("add:1:2")
    await bob.act("cart")
    assert "Your cart is empty." in bob.text


async def test_stale_and_forged_buttons_change_nothing(shop, client):
    carl = Shopper(client)
    await carl.act("prod:1")
    async with shop.transaction() as session:
        await catalog.set_status(session=session, actor=ADMIN, product_id=1,
                                 status=ProductStatus.ARCHIVED)
    await carl.press("Add to cart")
    assert carl.text == "Mug 1 is no longer sold."
    await carl.act("cart")
    assert "Your cart is empty." in carl.text
    for forged in ["add:999999:1", "prod:424242", "cat:9999:1"]:
        await carl.act(forged)
        assert "no longer" in carl.text or "does not exist" in carl.text
    await carl.act("drop table products")
    assert carl.text.startswith("That button is no longer valid")
    await carl.act("qty:2:5")
    assert carl.text == "That item is not in your cart."


async def test_bad_messages_get_a_clear_answer_and_change_nothing(client):
    dora = Shopper(client)
    for text, answer in [("   ", "Please type a message"),
                         ("x" * 4001, "That message is too long"),
                         ("\x00\x01\x02\x03\x04junk", "I couldn't read that message")]:
        await dora.say(text)
        assert dora.text.startswith(answer), dora.text
    await dora.say("/frobnicate")
    assert dora.text.startswith("I don't know the command /frobnicate")
    await dora.say("what is the meaning of life")
    assert dora.text.startswith("Sorry, I didn't understand that.")
    for body, problem in [(["hi"], "JSON object"), ({"session": dora.session}, "exactly one"),
                          ({"text": "hi", "action": "menu"}, "exactly one"),
                          ({"session": dora.session, "text": 5}, "must be a string")]:
        response = await client.post("/webchat/api/messages", json=body)
        assert response.status_code == 400 and problem in response.json()["error"]
    response = await client.post("/webchat/api/messages", content=b"\xff\xfe not json")
    assert response.status_code == 400


async def test_orders_of_other_people_are_indistinguishable_from_missing_ones(shop, client):
    erin = Shopper(client)
    await erin.act("add:1:1")
    async with shop.transaction() as session:
        stranger_cart = await factories.guest_cart(session)
        await carts.add_item(session=session, cart=stranger_cart, product_id=2,
                             actor=factories.SHOPPER)
        theirs = await orders.place_order(session=session, cart=stranger_cart,
                                          actor=factories.SHOPPER, reservation_minutes=30)
    await erin.act(f"ord:{theirs.number}")
    told_theirs = erin.text
    assert told_theirs.startswith(f"I can't find an order {theirs.number}.")
    await erin.act("ord:CC-2222ZZ")
    assert erin.text.startswith("I can't find an order CC-2222ZZ.")
    assert told_theirs.replace(theirs.number, "CC-2222ZZ") == erin.text
    await erin.act("orders")
    assert erin.text.startswith("You have no orders yet.")


async def test_asking_for_a_person_is_recorded_once(shop, client):
    fay = Shopper(client)
    await fay.act("human")
    assert "join this chat" in fay.text  # (nobody is online here: it says so)
    await fay.act("human")
    assert "already in the queue" in fay.text
    async with shop.transaction() as session:
        assert await session.scalar(select(func.count(HandoffRequest.id))) == 1


async def test_the_chat_page_and_its_assets_are_served(client):
    page = await client.get("/chat")
    assert page.status_code == 200 and '<script src="/chat/chat.js" defer>' in page.text
    assert "<script>" not in page.text
    assert (await client.get("/chat/chat.js")).status_code == 200
    assert (await client.get("/chat/../../pyproject.toml")).status_code == 404


async def test_replies_the_bot_sends_on_its_own_wait_for_the_clients_poll(client):
    gil = Shopper(client)
    await gil.say("/start")
    assert await gil.news(wait=0.05) == []

    async def queue_soon() -> None:
        await asyncio.sleep(0.2)
        async with client.shop.transaction() as session:
            await outbox.enqueue(session=session, chat_key=gil.chat_key,
                                 text="Your order CC-7KX3MQ is paid.",
                                 buttons=[[{"label": "Order status", "action": "ord:CC-7KX3MQ"}]])
            await outbox.enqueue(session=session, chat_key="web:othersession", text="Not yours.")

    started = time.monotonic()
    queued, _ = await asyncio.gather(gil.news(wait=10), queue_soon())
    assert time.monotonic() - started < 1.5, "the waiting poll is woken, not left to time out"
    assert queued == [{
        "text": "Your order CC-7KX3MQ is paid.", "image": None, "links": [],
        "buttons": [{"label": "Order status", "action": "ord:CC-7KX3MQ"}]}]
    assert await gil.news(wait=0) == []
