"""Journeys in the shopper's own words, through the web chat API and the embedded NLU."""

from __future__ import annotations

import httpx
import pytest

from bot.server import create_app
from core.carts import service as carts
from core.catalog import service as catalog
from core.orders import service as orders
from tests import factories
from tests.e2e.webchat import Shopper
from tests.support.demo_copy import demo_filled


@pytest.fixture
async def client(shop, settings, trained):
    await demo_filled(shop)
    await trained.refresh_catalog(shop)
    app = create_app(settings, shop, nlu=trained, sweep_seconds=3600)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_search_in_own_words_with_a_price_limit(client):
    ann = Shopper(client)
    await ann.say("do you have any mugs under 13 euros")
    assert "up to €13.00" in ann.text
    listed = [line for line in ann.text.splitlines() if line[:1].isdigit()]
    assert listed and all("mug" in line.lower() or "cup" in line.lower() for line in listed)
    assert "Large white mug" not in ann.text  # €14.00 is over the limit


async def test_pick_from_the_list_by_position_then_change_the_quantity(client):
    bob = Shopper(client)
    await bob.say("show me the mugs")
    second = next(line for line in bob.text.splitlines() if line.startswith("2. "))
    name = second[3:].split(" — ")[0]
    await bob.say("add two of the second one")
    assert f"Added 2 × {name}." in bob.text
    await bob.say("make it 3")
    assert f"{name}: now 3." in bob.text
    await bob.say("what's in my cart")
    assert f"3 × {name}" in bob.text


async def test_remove_by_name_and_an_empty_cart_says_so(client):
    cat = Shopper(client)
    await cat.say("add the brass desk lamp")
    assert "Added 1 × Brass desk lamp." in cat.text
    await cat.say("remove the lamp")
    assert "Removed Brass desk lamp." in cat.text and "Your cart is empty." in cat.text


async def test_an_order_that_is_not_yours_gives_nothing_away(shop, client):
    async with shop.transaction() as session:
        mug = await catalog.get_by_sku(session=session, sku="MUG-BLUE-350")
        cart = await factories.guest_cart(session)
        await carts.add_item(session=session, cart=cart, product_id=mug.id,
                             actor=factories.SHOPPER)
        theirs = await orders.place_order(session=session, cart=cart, actor=factories.SHOPPER,
                                          reservation_minutes=30)
    dan = Shopper(client)
    await dan.say(f"where is my order {theirs.number.lower()}")
    told_theirs = dan.text
    assert told_theirs.startswith(f"I can't find an order {theirs.number}.")
    await dan.say("where is my order CC-2222ZZ")
    assert dan.text.startswith("I can't find an order CC-2222ZZ.")
    assert told_theirs.replace(theirs.number, "CC-2222ZZ") == dan.text


async def test_shop_questions_are_answered_from_the_faq(client):
    eve = Shopper(client)
    await eve.say("how much is shipping to germany")
    assert "Shipping is €4.95 in the EU" in eve.text


async def test_gibberish_gets_the_menu_not_a_guess(client):
    fred = Shopper(client)
    await fred.say("qwxz vbnm plokij")
    assert "didn't understand" in fred.text or "not sure I understood" in fred.text
    assert "Browse the shop" in fred.buttons()


async def test_two_matching_products_get_a_question_and_the_answer_is_remembered(client):
    gus = Shopper(client)
    await gus.say("add two blue ones")
    assert gus.text == "Which one do you mean?"
    assert {"Blue mug · €12.50", "Blue enamel camp mug · €9.90"} <= set(gus.buttons())
    await gus.press("Blue enamel camp mug")
    assert "Added 2 × Blue enamel camp mug." in gus.text
