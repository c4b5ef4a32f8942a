"""Notification settings in the web chat: what the shopper sees and can change, with SMS
only after an explicit yes to a checked number proven by a texted code, and their own time
zone for quiet hours."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.notifications import holders, preferences
from core.notifications.events import Channel
from core.notifications.kinds import Category
from core.orders.models import Order
from tests.conftest import make_settings
from tests.e2e.checkout_steps import place
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper
from tests.support.twilio import twilio_server


@pytest.fixture
def twilio():
    with twilio_server() as server:
        yield server


@pytest.fixture
async def client(database_url, tmp_path, trained, twilio):
    async with served(make_settings(database_url, tmp_path / "data", **twilio.env()),
                      trained) as http:
        yield http


async def _choices(client, shopper: Shopper) -> preferences.Choices:
    async with client.shop.sessions() as session:
        holder = await holders.of_chat(session=session, vault=client.shop.vault, user_id=None,
                                       chat_key=shopper.chat_key)
        return await preferences.choices_of(session=session, holder=holder)


async def test_settings_show_every_category_and_account_mail_as_always_on(client):
    ann = Shopper(client)
    await ann.say("notification settings")
    assert ann.text.splitlines()[:6] == [
        "Your notifications:", "Order updates: Chat on, Email on.",
        "News and offers: Chat off, Email off.", "Back in stock: Chat on, Email on.",
        "Cart reminders: Chat off, Email off.", "Account and security: always on."]
    assert "Quiet hours: off (time zone UTC)." in ann.text
    assert "News and offers · Email: off (turn on)" in ann.buttons()
    assert "Text me order updates" in ann.buttons()


async def test_marketing_needs_a_yes_and_quiet_hours_follow_the_typed_time_zone(client):
    ann = Shopper(client)
    await ann.say("/settings")
    await ann.press("News and offers · Email: off (turn on)")
    assert "News and offers: Chat off, Email on." in ann.text
    await ann.press("Quiet 22:00–07:00")
    await ann.say("time zone Europe/Berlin")
    assert "Saved: your time zone is Europe/Berlin." in ann.text
    assert "Quiet hours: 22:00 to 07:00 (Europe/Berlin)." in ann.text
    await ann.say("time zone Mars/Olympus")
    assert "That time zone isn't one I know" in ann.text
    choices = await _choices(client, ann)
    assert choices.picked == {"marketing:email": True}
    assert (choices.quiet_from, choices.quiet_until, choices.time_zone) == (1320, 420,
                                                                          "Europe/Berlin")


async def test_typed_changes_are_made_at_once_and_can_be_undone(client):
    ann = Shopper(client)
    await ann.say("stop emails")
    assert ann.text == ("Done: Order updates, Back in stock won't come by Email any more. "
                        "Account and security messages still do.")
    await ann.say("turn email back on")
    assert ann.text == "Done: Order updates, Back in stock will come by Email again."
    await ann.press("Undo")
    assert "Order updates: Chat on, Email off." in ann.text
    await ann.say("no more marketing emails")  # already off: nothing changes
    assert ann.text.startswith("Nothing to change")


async def test_sms_only_after_a_yes_to_the_checked_number_and_it_can_be_withdrawn(
        client, twilio):
    ann = Shopper(client)
    number = await place(ann)  # a guest's order, phone 06 12 34 56 78 in France
    await ann.say("Text me order updates")
    assert "+33 ••• ••• 78" in ann.text and "Use +33 ••• ••• 78" in ann.buttons()
    await ann.say("12")
    assert "doesn't look like a phone number" in ann.text
    await ann.press("Use +33")
    assert "Shall I text your order updates to +33 ••• ••• 78?" in ann.text
    assert not (await _choices(client, ann)).sms_agreed  # not before the yes
    await ann.say("yes")
    assert "I've texted a 6-digit code to +33 ••• ••• 78." in ann.text
    assert not (await _choices(client, ann)).sms_agreed  # not before the code
    (sms,) = await twilio.wait_for(1)
    assert sms.to == "+33612345678"
    await ann.say(re.findall(r"\b\d{6}\b", sms.body)[0])
    assert "Done: I'll text your order updates to +33 ••• ••• 78." in ann.text
    assert "Order updates: Chat on, Email on, Text message on." in ann.text
    async with client.shop.sessions() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        chat, email = holders.of_order(client.shop.vault, order)
        row = await preferences.row_of(session=session, holder=chat)  # the chat's own
        assert preferences.sms_number(row, client.shop.vault) == "+33612345678"
        assert "+3361" not in str(row.sms_phone_sealed)
        assert email.startswith("email:")  # a chat never acts on the checkout email's
        assert await preferences.row_of(session=session, holder=email) is None
    assert preferences.allowed(Category.ORDERS, Channel.SMS, await _choices(client, ann))
    await ann.press("Stop text messages")
    assert not (await _choices(client, ann)).sms_agreed
    async with client.shop.sessions() as session:
        actions = (await session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "notifications.sms_consent"))).all()
    assert len(actions) == 2
