"""Whose choices a guest's chat changes and an order obeys (review of issue 18, DEFECTS 1
to 3), through the web chat's JSON API, a real SMTP server and the Twilio double:

- a chat acts on its own holder only, never on the email typed at checkout, so typing
  someone's address gives no hold on their mail or texts;
- a guest order's news obeys its chat's choices and its email's together (any off wins),
  choices made before the first order included, and the nudges read the same holder;
- a message held by quiet hours is checked again as it goes: consent withdrawn or mail
  unsubscribed meanwhile means it is not sent.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot import sweeper
from core.audit.actor import Actor
from core.carts.models import Cart
from core.catalog.models import Product
from core.clock import now
from core.inventory import service as inventory
from core.notifications import service as notifications
from core.notifications.models import NotificationDelivery
from core.nudges import cart_reminders
from core.orders import service as orders
from core.orders.models import Order
from core.orders.states import OrderStatus
from core.outbox.models import OutboxMessage
from tests.conftest import make_settings
from tests.e2e.checkout_steps import place, to_review
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper
from tests.support.twilio import twilio_server

SYSTEM = Actor.system("test")
NEW_YORK = ZoneInfo("America/New_York")




@pytest.fixture
def twilio():
    with twilio_server() as server:
        yield server


@pytest.fixture
async def client(database_url, tmp_path, trained, inbox, twilio):
    settings = make_settings(database_url, tmp_path / "data", SMTP_URL=inbox.url,
                             CART_REMINDER_HOURS=24, **twilio.env())
    async with served(settings, trained) as http:
        yield http


async def _deliveries(client, kind: str, channel: str) -> int:
    async with client.shop.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(NotificationDelivery)
                                        .where(NotificationDelivery.kind == kind,
                                               NotificationDelivery.channel == channel)))


async def _placed(shopper: Shopper, email: str) -> str:
    """A guest's order placed, not paid; its number."""
    await to_review(shopper, email=email)
    await shopper.press("Pay €29.90")
    return shopper.text.split("Order ")[1].split(" ")[0]


async def _agree_to_sms(shopper: Shopper, twilio, typed: str | None = None) -> None:
    """Consent given as a shopper gives it: the number, the yes, the texted code typed back.
    The code's SMS is then forgotten by the double, so what follows counts order news only."""
    await shopper.say("Text me order updates")
    if typed:
        await shopper.say(typed)
    else:
        await shopper.press("Use +33")
    assert "Shall I text your order updates to" in shopper.text
    await shopper.say("yes")
    (sms,) = await twilio.wait_for(1)
    await shopper.say(re.findall(r"\b\d{6}\b", sms.body)[0])
    assert "Done: I'll text your order updates to" in shopper.text
    twilio.received.clear()
    twilio.requests = 0


async def test_typing_someone_elses_email_gives_no_hold_on_their_mail_or_texts(
        client, inbox, twilio):
    mallory = Shopper(client)
    await _placed(mallory, "victim@example.com")   # never paid
    await _agree_to_sms(mallory, twilio, "+33 6 98 76 54 32")
    await mallory.say("/settings")
    await mallory.press("Order updates · Email: on")
    assert "Order updates: Chat on, Email off, Text message on." in mallory.text

    victim = Shopper(client)   # the address's owner, ordering from her own chat
    number = await _placed(victim, "victim@example.com")
    assert (await client.post(victim.payment_path(), data={"outcome": "pay"})).status_code \
        == 200
    (mail,) = await inbox.wait_for(1)
    assert mail.message["Subject"] == f"Order {number} is confirmed"
    assert mail.message["To"] == "victim@example.com"
    assert await _deliveries(client, "order_confirmed", "sms") == 0
    assert await twilio.wait_for(1, seconds=1) == [] and twilio.requests == 0


async def test_email_turned_off_before_the_first_order_is_obeyed_by_it(client, inbox):
    ann = Shopper(client)
    await ann.say("/settings")
    await ann.press("Order updates · Email: on")
    assert "Order updates: Chat on, Email off." in ann.text
    number = await _placed(ann, "ann@example.com")
    await client.post(ann.payment_path(), data={"outcome": "pay"})
    assert f"Order {number} is confirmed" in (await ann.news())[0]["text"]
    assert await _deliveries(client, "order_confirmed", "email") == 0
    assert await _deliveries(client, "order_confirmed", "chat") == 1
    assert await inbox.wait_for(1, seconds=0.5) == []


async def _product_id(client, name: str) -> int:
    async with client.shop.sessions() as session:
        return int(await session.scalar(select(Product.id).where(Product.name == name)))


async def test_back_in_stock_turned_off_in_settings_after_an_order_is_not_sent(client):
    mug = await _product_id(client, "Speckled latte mug")
    ann = Shopper(client)
    await place(ann)   # a guest order with an email, from this chat
    await ann.act(f"prod:{mug}")
    await ann.press("Tell me when it's back")
    assert "I'll tell you here as soon as" in ann.text
    await ann.say("/settings")
    await ann.press("Back in stock · Chat: on")
    assert "Back in stock: Chat off" in ann.text
    async with client.shop.transaction() as session:
        await inventory.adjust(session=session, product_id=mug, delta=5, reason="delivery",
                               actor=SYSTEM)
    await sweeper.nudge_once(client.shop)
    assert await _deliveries(client, "back_in_stock", "chat") == 0
    assert not [r for r in await ann.news(wait=0.5) if "back in stock" in r["text"]]


async def _age_carts(client) -> None:
    async with client.shop.transaction() as session:
        await session.execute(update(Cart).values(updated_at=now() - timedelta(hours=25)))


async def test_cart_reminders_turned_on_in_settings_after_an_order_are_sent(client):
    ann = Shopper(client)
    await place(ann)
    await ann.say("/settings")
    await ann.press("Cart reminders · Chat: off")
    assert "Cart reminders: Chat on" in ann.text
    await ann.say("add 1 blue mug")
    await _age_carts(client)
    await sweeper.nudge_once(client.shop)
    assert await _deliveries(client, "cart_reminder", "chat") == 1
    told = [r["text"] for r in await ann.news(wait=5)]
    assert any("You left 1 item(s) in your cart" in text for text in told), told


def _late_in_new_york() -> tuple[datetime, datetime]:
    """23:30 in New York two days from now (inside 22:00-07:00), and 07:00 after it."""
    day = (now() + timedelta(days=2)).astimezone(NEW_YORK).date()
    late = datetime.combine(day, time(23, 30), NEW_YORK).astimezone(UTC)
    return late, datetime.combine(day + timedelta(days=1), time(7, 0), NEW_YORK).astimezone(UTC)


async def _quiet_in_new_york(shopper: Shopper) -> None:
    await shopper.say("/settings")
    await shopper.press("Quiet 22:00–07:00")
    await shopper.say("time zone America/New_York")
    assert "Quiet hours: 22:00 to 07:00 (America/New_York)." in shopper.text


async def _held(client, platform: str) -> OutboxMessage:
    async with client.shop.sessions() as session:
        (row,) = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.chat_key.like(f"{platform}:notice-%"),
            OutboxMessage.sent_at.is_(None), OutboxMessage.gave_up_at.is_(None)))).all()
    return row


async def _morning_comes(client, row_id: int) -> OutboxMessage:
    """The held row's time has come: the relay takes it; the row once it is settled."""
    async with client.shop.transaction() as session:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                              .values(next_attempt_at=now() - timedelta(seconds=1)))
    for _ in range(100):
        client.app.state.relay.wake()
        await asyncio.sleep(0.1)
        async with client.shop.sessions() as session:
            row = await session.get(OutboxMessage, row_id)
            assert row is not None
            if row.sent_at is not None or row.gave_up_at is not None:
                return row
    raise AssertionError("the relay never settled the held message")


async def _prepared_at(client, number: str, moment: datetime, monkeypatch) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(notifications, "now", lambda: moment)
        async with client.shop.transaction() as session:
            order = await session.scalar(select(Order).where(Order.number == number))
            await orders.advance(session=session, order=order, to=OrderStatus.PROCESSING,
                                 actor=SYSTEM)


async def test_an_sms_held_by_quiet_hours_is_not_sent_once_consent_is_withdrawn(
        client, twilio, monkeypatch):
    ann = Shopper(client)
    number = await _placed(ann, "ann@example.com")
    pay = ann.payment_path()
    await _agree_to_sms(ann, twilio)
    await client.post(pay, data={"outcome": "pay"})
    (confirmed,) = await twilio.wait_for(1)
    await _quiet_in_new_york(ann)
    late, morning = _late_in_new_york()
    await _prepared_at(client, number, late, monkeypatch)
    held = await _held(client, "sms")
    assert held.next_attempt_at == morning

    await ann.say("/settings")
    await ann.press("Stop text messages")
    settled = await _morning_comes(client, held.id)
    assert settled.sent_at is None and settled.gave_up_at is not None
    assert twilio.requests == 1 and await twilio.wait_for(2, seconds=0.5) == [confirmed]


async def test_mail_held_by_quiet_hours_is_not_sent_after_one_click_unsubscribe(
        client, inbox, monkeypatch):
    ann = Shopper(client)
    number = await _placed(ann, "ann@example.com")
    await client.post(ann.payment_path(), data={"outcome": "pay"})
    (mail,) = await inbox.wait_for(1)
    await _quiet_in_new_york(ann)
    late, morning = _late_in_new_york()
    await _prepared_at(client, number, late, monkeypatch)
    held = await _held(client, "email")
    assert held.next_attempt_at == morning

    path = urlsplit(mail.message["List-Unsubscribe"].strip("<>")).path
    posted = await client.post(path, content=b"List-Unsubscribe=One-Click",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert posted.status_code == 200
    settled = await _morning_comes(client, held.id)
    assert settled.sent_at is None and settled.gave_up_at is not None
    assert len(await inbox.wait_for(2, seconds=0.5)) == 1
    async with client.shop.sessions() as session:   # the sealed mail is not kept
        sealed = await session.scalar(select(NotificationDelivery.content_sealed).where(
            NotificationDelivery.kind == "order_preparing",
            NotificationDelivery.channel == "email"))
    assert sealed is None


async def test_a_cart_bought_during_quiet_hours_gets_no_reminder(client, monkeypatch):
    ann = Shopper(client)
    await ann.say("add 1 blue mug")
    await ann.press("Remind me if I leave items in my cart")
    await _quiet_in_new_york(ann)
    late, _morning = _late_in_new_york()
    with monkeypatch.context() as patched:   # the cart is due, but it is night for her
        patched.setattr(cart_reminders, "now", lambda: late)
        patched.setattr(notifications, "now", lambda: late)
        await sweeper.nudge_once(client.shop)
    assert await _deliveries(client, "cart_reminder", "chat") == 0
    await place(ann, pay="Pay €42.40")   # she buys before morning: the cart is emptied
    await _age_carts(client)
    await sweeper.nudge_once(client.shop)
    assert await _deliveries(client, "cart_reminder", "chat") == 0
