"""Sending queued SMS through Twilio (a double on loopback): a number Twilio refuses is
given up with its code and does not hold back the next message; 429, 5xx and no answer
mean trying again later; wrong credentials are an ERROR for the operator. No full number
reaches the log."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.channels.delivery import Outcome
from bot.notice_sms import SMS_PLATFORM, NoticeSms
from core.audit.actor import Actor
from core.clock import now
from core.notifications import preferences
from core.notifications import service as notifications
from core.notifications.events import Channel, Event, Recipient
from core.notifications.models import NotificationDelivery
from core.shop import Shop
from tests.conftest import make_settings
from tests.support.servers import free_port
from tests.support.twilio import FROM, twilio_server

EVENT = Event(kind="order_delivered", subject="order:1", context={"number": "CC-7KX3MQ"})
ANN, BOB = "+4915112345678", "+4915198765432"


@pytest.fixture
def twilio():
    with twilio_server() as server:
        yield server


async def _shop(database_url, tmp_path, **env: str) -> Shop:
    return Shop.from_settings(make_settings(database_url, tmp_path / "data", **env))


async def _queue(shop: Shop, *numbers: str) -> list[str]:
    """An SMS delivery per number, each to a holder who agreed to SMS at it."""
    keys = []
    for number in numbers:
        holder = f"email:{number}"
        async with shop.transaction() as session:
            await preferences.agree_to_sms(session=session, holder=holder, phone_e164=number,
                                           vault=shop.vault, actor=Actor.system("test"),
                                           at=now())
            made = await notifications.notify(session=session, event=EVENT, holder=holder,
                                              recipients=[Recipient(Channel.SMS, number)])
            (key,) = [notifications.notice_chat_key(d.id, Channel.SMS) for d in made]
            platform, _, chat_id = key.partition(":")
            assert platform == SMS_PLATFORM
            keys.append(chat_id)
    return keys


async def _sealed(shop: Shop) -> list[bool]:
    async with shop.sessions() as session:
        rows = await session.scalars(select(NotificationDelivery.content_sealed)
                                     .order_by(NotificationDelivery.id))
        return [row is not None for row in rows]


def _logged(caplog, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == name]


async def test_a_refused_number_is_given_up_and_the_next_message_still_goes(
        database_url, tmp_path, twilio, caplog):
    twilio.invalid.add(BOB)
    shop = await _shop(database_url, tmp_path, **twilio.env())
    sms = NoticeSms(shop)
    try:
        bob, ann = await _queue(shop, BOB, ANN)
        caplog.set_level(logging.INFO)
        assert await sms.send(bob, []) is Outcome.UNDELIVERABLE
        (refused,) = _logged(caplog, "notify.sms_refused")
        assert refused.fields["code"] == 21211 and refused.fields["status"] == 400
        assert "is not a valid phone number" in refused.fields["reason"]
        assert refused.fields["to"] == "+49 ••• ••• 32"
        assert await sms.send(ann, []) is Outcome.SENT
        (sent,) = twilio.received
        assert (sent.to, sent.sender) == (ANN, FROM)
        assert sent.body == "Order CC-7KX3MQ has been delivered. We hope you enjoy it!"
        assert await _sealed(shop) == [False, False]  # sent or given up: not kept
        assert await sms.send(ann, []) is Outcome.UNDELIVERABLE  # nothing left to send
        assert len(twilio.received) == 1
        logged = "\n".join(r.getMessage() + str(getattr(r, "fields", "")) for r in
                           caplog.records)
        assert ANN not in logged and BOB not in logged and twilio.token not in logged
    finally:
        await sms.close()
        await shop.close()


async def test_an_unsubscribed_number_is_given_up_with_twilios_code(database_url, tmp_path,
                                                                   twilio, caplog):
    twilio.unsubscribed.add(ANN)
    shop = await _shop(database_url, tmp_path, **twilio.env())
    sms = NoticeSms(shop)
    try:
        (ann,) = await _queue(shop, ANN)
        caplog.set_level(logging.INFO)
        assert await sms.send(ann, []) is Outcome.UNDELIVERABLE
        (refused,) = _logged(caplog, "notify.sms_refused")
        assert refused.fields["code"] == 21610
    finally:
        await sms.close()
        await shop.close()


@pytest.mark.parametrize("trouble", ["busy", "broken"])
async def test_too_many_requests_or_a_twilio_failure_means_trying_again_later(
        database_url, tmp_path, twilio, caplog, trouble):
    setattr(twilio, trouble, 1)
    shop = await _shop(database_url, tmp_path, **twilio.env())
    sms = NoticeSms(shop)
    try:
        ann, bob = await _queue(shop, ANN, BOB)
        caplog.set_level(logging.INFO)
        assert await sms.send(ann, []) is Outcome.FAILED
        (failed,) = _logged(caplog, "notify.sms_failed")
        assert failed.fields["status"] == (429 if trouble == "busy" else 503)
        assert await _sealed(shop) == [True, True]  # kept for the next try
        assert await sms.send(bob, []) is Outcome.SENT  # the next one is not held back
        assert await sms.send(ann, []) is Outcome.SENT  # and the retry goes
        assert [s.to for s in twilio.received] == [BOB, ANN]
    finally:
        await sms.close()
        await shop.close()


@pytest.mark.parametrize(("wrong", "status"), [("token", 401), ("base", 404)])
async def test_wrong_credentials_are_an_error_for_the_operator_and_the_sms_wait(
        database_url, tmp_path, twilio, caplog, wrong, status):
    env = twilio.env()
    if wrong == "token":
        env["TWILIO_AUTH_TOKEN"] = "0" * 32
    else:
        env["TWILIO_API_BASE"] = f"{twilio.url}/elsewhere"
    shop = await _shop(database_url, tmp_path, **env)
    sms = NoticeSms(shop)
    try:
        (ann,) = await _queue(shop, ANN)
        caplog.set_level(logging.INFO)
        assert await sms.send(ann, []) is Outcome.FAILED
        (said,) = _logged(caplog, "notify.sms_credentials")
        assert said.levelno == logging.ERROR and said.fields["status"] == status
        assert "TWILIO_AUTH_TOKEN" in said.fields["note"]
        assert "0" * 32 not in str(said.fields)
        assert await _sealed(shop) == [True] and twilio.received == []
    finally:
        await sms.close()
        await shop.close()


async def test_no_twilio_there_means_trying_again_later(database_url, tmp_path, twilio):
    shop = await _shop(database_url, tmp_path, **{
        **twilio.env(), "TWILIO_API_BASE": f"http://127.0.0.1:{free_port()}"})
    sms = NoticeSms(shop)
    try:
        (ann,) = await _queue(shop, ANN)
        assert await sms.send(ann, []) is Outcome.FAILED
        assert await _sealed(shop) == [True]
        assert await sms.send("notice-999999", []) is Outcome.UNDELIVERABLE
    finally:
        await sms.close()
        await shop.close()


async def test_a_shop_without_twilio_gives_agreed_sms_up_rather_than_keep_them(
        database_url, tmp_path, caplog):
    shop = await _shop(database_url, tmp_path)
    sms = NoticeSms(shop)
    try:
        (ann,) = await _queue(shop, ANN)
        caplog.set_level(logging.INFO)
        assert await sms.send(ann, []) is Outcome.UNDELIVERABLE
        assert _logged(caplog, "notify.sms_off") and await _sealed(shop) == [False]
    finally:
        await sms.close()
        await shop.close()
