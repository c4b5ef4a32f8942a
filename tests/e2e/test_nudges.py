"""Nudges through the web chat's JSON API (issue 18, item 4): "Tell me when it's back" on a
sold-out card, told once on restock; one cart reminder to a shopper who agreed, none to
one who did not or who bought. Time is moved by ageing rows, and the sweeper's round is
called directly: no sleeps."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot import sweeper
from core.audit.actor import Actor
from core.audit.models import AuditEvent
from core.carts.models import Cart
from core.catalog.models import Product
from core.clock import now
from core.inventory import service as inventory
from tests.conftest import make_settings
from tests.e2e.checkout_steps import place
from tests.e2e.conftest import served
from tests.e2e.platforms import keyboard_labels
from tests.e2e.webchat import Shopper

ADMIN = Actor.system("test")


@pytest.fixture
async def client(database_url, tmp_path, trained):
    settings = make_settings(database_url, tmp_path / "data", CART_REMINDER_HOURS=24)
    async with served(settings, trained) as http:
        yield http


async def _product_id(client, name: str) -> int:
    async with client.shop.sessions() as session:
        return int(await session.scalar(select(Product.id).where(Product.name == name)))


async def _stock(client, product_id: int, delta: int) -> None:
    async with client.shop.transaction() as session:
        await inventory.adjust(session=session, product_id=product_id, delta=delta,
                               reason="delivery", actor=ADMIN)


async def _told(shopper: Shopper, wait: float = 0.5) -> list[str]:
    return [reply["text"] for reply in await shopper.news(wait=wait)]


async def test_a_sold_out_mug_is_announced_once_to_the_shopper_who_asked(client):
    mug = await _product_id(client, "Speckled latte mug")
    ann = Shopper(client)
    await ann.say("hello")
    await ann.act(f"prod:{mug}")
    assert "Add to cart" not in ann.buttons()
    await ann.press("Tell me when it's back")
    assert "I'll tell you here as soon as Speckled latte mug is back in stock" in ann.text
    await ann.act(f"prod:{mug}")
    await ann.press("Tell me when it's back")  # pressed twice: one subscription
    assert "already on the list" in ann.text
    bob = Shopper(client)  # never asked
    await bob.say("hello")

    await _stock(client, mug, 5)   # the delivery arrives: none -> 5
    await sweeper.nudge_once(client.shop)
    await sweeper.nudge_once(client.shop)   # a second round (or a second worker): nothing
    told = await _told(ann, wait=5)
    assert len(told) == 1 and "Speckled latte mug is back in stock" in told[0]
    assert await _told(ann) == [] and await _told(bob) == []

    await _stock(client, mug, -5)  # sold out and back again: she asked once, told once
    await _stock(client, mug, 3)
    await sweeper.nudge_once(client.shop)
    assert await _told(ann) == []
    async with client.shop.sessions() as session:
        asked = list(await session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "notifications.back_in_stock")))
    assert asked == ["notifications.back_in_stock"]


async def _age_carts(client) -> None:
    async with client.shop.transaction() as session:
        await session.execute(update(Cart).values(updated_at=now() - timedelta(hours=25)))


async def test_a_cart_left_behind_is_reminded_of_once_and_only_with_a_yes(client):
    ann, bob = Shopper(client), Shopper(client)
    await ann.say("add 1 blue mug")
    await ann.press("Remind me if I leave items in my cart")
    assert "remind you here once" in ann.text
    await ann.press("My cart")
    assert "Remind me if I leave items in my cart" not in ann.buttons(), "offered once"
    await bob.say("add 1 blue mug")   # never presses it
    assert "Remind me if I leave items in my cart" in bob.buttons()
    await bob.say("add 1 blue mug")
    assert "Remind me if I leave items in my cart" not in bob.buttons(), "offered once"

    await sweeper.nudge_once(client.shop)   # not yet 24 hours
    assert await _told(ann) == []
    await _age_carts(client)
    await sweeper.nudge_once(client.shop)
    await sweeper.nudge_once(client.shop)
    told = await _told(ann, wait=5)
    assert len(told) == 1 and "You left 1 item(s) in your cart (Blue mug" in told[0]
    assert await _told(ann) == [] and await _told(bob) == []

    await ann.say("add 1 blue mug")   # the cart changed: a new episode, reminded again
    await _age_carts(client)
    await sweeper.nudge_once(client.shop)
    assert len(await _told(ann, wait=5)) == 1
    async with client.shop.sessions() as session:
        assert await session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == "notifications.preference")) is not None


async def test_a_shopper_who_bought_gets_no_reminder(client):
    carl = Shopper(client)
    await carl.say("hello")
    await carl.act("remind:1")   # the yes, as the cart's button gives it
    await place(carl)   # checkout empties the cart into the order
    await _age_carts(client)
    await sweeper.nudge_once(client.shop)
    assert not [text for text in await _told(carl) if "left" in text]


async def test_in_telegram_too_a_sold_out_card_asks_and_the_restock_is_told_once(
        platforms):
    shop = platforms.shop
    async with shop.sessions() as session:
        mug = int(await session.scalar(select(Product.id).where(
            Product.name == "Speckled latte mug")))
    ann = platforms.telegram_user()
    await ann.say("/start")
    sent = await ann.say("show me the speckled latte mug")
    assert any("Tell me when it's back" in keyboard_labels(call) for call in sent), \
        [call.text for call in sent]
    sent = await ann.press("Tell me when it's back")
    assert "I'll tell you here as soon as Speckled latte mug is back" in sent[0].text
    async with shop.transaction() as session:
        await inventory.adjust(session=session, product_id=mug, delta=4, reason="delivery",
                               actor=ADMIN)
    before = len(ann.mine())
    await sweeper.nudge_once(shop)
    await sweeper.nudge_once(shop)

    def told() -> list[str]:
        return [call.text for call in ann.mine()[before:] if "back in stock" in call.text]
    await platforms.telegram.wait_for(told)
    await asyncio.sleep(0.3)
    assert len(told()) == 1
