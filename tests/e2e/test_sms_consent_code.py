"""SMS consent in the web chat proves the phone first (review of issue 18, NIT 2), through
the chat's JSON API and the Twilio double:

- after the yes, a six-digit code is texted to the number; a wrong code agrees to nothing
  and says how many tries are left, an expired one asks again, the right one records the
  consent, and the order's news then goes by SMS;
- a shop without Twilio offers no SMS at all;
- a 21610 from Twilio (the number replied STOP) withdraws that consent, so the next
  update sends no SMS request.
"""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from sqlalchemy import func, select, update

from core.audit.actor import Actor
from core.audit.models import AuditEvent
from core.notifications import holders, preferences
from core.notifications.models import NotificationDelivery, SmsCode
from core.orders.models import Order
from core.payments import service as payments
from tests.conftest import make_settings
from tests.e2e.checkout_steps import to_review
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper
from tests.support.twilio import twilio_server

PHONE = "+33612345678"   # the order's 06 12 34 56 78 in France
SYSTEM = Actor.system("test")


@pytest.fixture
def twilio():
    with twilio_server() as server:
        yield server


@pytest.fixture
async def client(database_url, tmp_path, trained, twilio):
    settings = make_settings(database_url, tmp_path / "data", **twilio.env())
    async with served(settings, trained) as http:
        yield http


async def _placed(shopper: Shopper) -> tuple[str, str]:
    """A guest's order placed, not paid yet; its number and its payment page."""
    await to_review(shopper, email="ann@example.com")
    await shopper.press("Pay €29.90")
    return shopper.text.split("Order ")[1].split(" ")[0], shopper.payment_path()


async def _agreed(client, shopper: Shopper) -> bool:
    async with client.shop.sessions() as session:
        holder = await holders.of_chat(session=session, vault=client.shop.vault, user_id=None,
                                       chat_key=shopper.chat_key)
        return (await preferences.choices_of(session=session, holder=holder)).sms_agreed


async def _code_asked(shopper: Shopper, twilio, count: int) -> str:
    """The shopper says yes to the order's number; the code texted to it."""
    await shopper.say("Text me order updates")
    await shopper.press("Use +33")
    assert "Shall I text your order updates to +33 ••• ••• 78?" in shopper.text
    await shopper.say("yes")
    return await _texted(shopper, twilio, count)


async def _texted(shopper: Shopper, twilio, count: int) -> str:
    assert "I've texted a 6-digit code to +33 ••• ••• 78." in shopper.text
    sent = await twilio.wait_for(count)
    assert len(sent) == count and sent[-1].to == PHONE
    (code,) = re.findall(r"\b\d{6}\b", sent[-1].body)
    return code


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def test_only_the_right_code_records_consent_and_the_news_then_goes_by_sms(
        client, twilio, caplog):
    caplog.set_level(logging.DEBUG)
    ann = Shopper(client)
    number, pay = await _placed(ann)
    code = await _code_asked(ann, twilio, 1)
    assert twilio.received[0].body.startswith(f"Your code for Chatcart is {code}.")
    assert not await _agreed(client, ann)  # not on the yes alone

    await ann.say(_wrong(code))
    assert "That code isn't right (4 tries left)." in ann.text
    assert not await _agreed(client, ann)
    await ann.say(code)
    assert "Done: I'll text your order updates to +33 ••• ••• 78." in ann.text
    assert "Order updates: Chat on, Email on, Text message on." in ann.text
    assert await _agreed(client, ann)
    async with client.shop.sessions() as session:
        consents = await session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "notifications.sms_consent"))
        stored = (await session.scalars(select(SmsCode.code_hash))).all()
    assert consents == 1 and code not in str(stored)   # only a keyed hash is kept

    assert (await client.post(pay, data={"outcome": "pay"})).status_code == 200
    _code, news = await twilio.wait_for(2)
    assert news.to == PHONE and news.body.startswith(f"Thank you! Order {number} is confirmed.")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert code not in logged and PHONE not in logged and "612345678" not in logged


async def test_five_wrong_codes_spend_it_and_a_new_code_replaces_the_old(client, twilio):
    ann = Shopper(client)
    await _placed(ann)
    first = await _code_asked(ann, twilio, 1)
    await ann.press("Send a new code")
    second = await _texted(ann, twilio, 2)
    if second != first:  # the first stopped working when the second was sent
        await ann.say(first)
        assert "That code isn't right (4 tries left)." in ann.text
    for _ in range(4 if second != first else 5):
        await ann.say(_wrong(second))
    assert "That code has expired or has been used up" in ann.text
    await ann.say(second)  # spent: even the right code agrees to nothing now
    assert not await _agreed(client, ann)


async def test_an_expired_code_asks_again_and_a_new_one_works(client, twilio):
    ann = Shopper(client)
    await _placed(ann)
    code = await _code_asked(ann, twilio, 1)
    async with client.shop.transaction() as session:  # eleven minutes later
        await session.execute(update(SmsCode).values(
            expires_at=SmsCode.created_at))
    await ann.say(code)
    assert "That code has expired or has been used up, so nothing was changed." in ann.text
    assert "Send a new code" in ann.buttons()
    assert not await _agreed(client, ann)
    await ann.say("yes")
    fresh = await _texted(ann, twilio, 2)
    await ann.say(fresh)
    assert "Done: I'll text your order updates to" in ann.text and await _agreed(client, ann)


async def test_a_stop_from_the_number_withdraws_consent_and_the_next_update_sends_no_sms(
        client, twilio):
    ann = Shopper(client)
    number, pay = await _placed(ann)
    code = await _code_asked(ann, twilio, 1)
    await ann.say(code)
    assert await _agreed(client, ann)

    twilio.unsubscribed.add(PHONE)   # Ann replied STOP to the shop's number
    assert (await client.post(pay, data={"outcome": "pay"})).status_code == 200
    for _ in range(200):
        if not await _agreed(client, ann):
            break
        await asyncio.sleep(0.05)
    assert not await _agreed(client, ann)
    asked = twilio.requests
    assert asked == 2 and len(twilio.received) == 1   # the code; the confirmation refused
    async with client.shop.sessions() as session:
        withdrawn = (await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "notifications.sms_consent").order_by(AuditEvent.id))).all()
    assert [event.data["agreed"] for event in withdrawn] == [True, False]
    assert withdrawn[-1].actor_label == "twilio"

    async with client.shop.transaction() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        await payments.ship(session=session, order=order, gateways=client.shop.gateways,
                            actor=SYSTEM, carrier="DHL", tracking_number="JD014600006101")
    async with client.shop.sessions() as session:
        shipped = await session.scalar(select(func.count()).select_from(NotificationDelivery)
                                       .where(NotificationDelivery.channel == "sms",
                                              NotificationDelivery.kind == "order_shipped"))
    assert shipped == 0
    await asyncio.sleep(0.3)
    assert twilio.requests == asked


async def test_a_shop_without_twilio_offers_no_sms(database_url, tmp_path, trained):
    async with served(make_settings(database_url, tmp_path / "data"), trained) as client:
        ann = Shopper(client)
        await ann.say("/settings")
        assert "Your notifications:" in ann.text
        assert not any("Text me" in label or "Text message" in label
                       for label in ann.buttons())
        await ann.say("Text me order updates")
        assert "this shop doesn't send text messages" in ann.text
        assert "Shall I text" not in ann.text and "Which number" not in ann.text
        await ann.act("nsms")   # a stale button from before: the same plain answer
        assert "this shop doesn't send text messages" in ann.text
