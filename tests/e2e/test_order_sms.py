"""Order news by SMS: a guest who agreed to SMS and paid through the web chat gets the
confirmation by SMS at the agreed number (a Twilio double on loopback, with the API's path
and basic auth), then the shipping news from the console, each once; without that yes,
no SMS at all."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.accounts.models import Role
from core.audit.actor import Actor
from core.clock import now
from core.notifications import preferences
from core.notifications.models import NotificationDelivery
from core.notifications.sms import segments
from core.orders import notices
from core.orders.models import Order
from core.payments import service as payments
from tests import factories
from tests.admin_web.console import csrf, signed_in_admin
from tests.conftest import make_settings
from tests.e2e.checkout_steps import to_review
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper
from tests.support.twilio import ACCOUNT_SID, FROM, twilio_server

PHONE = "+33612345678"


@pytest.fixture
def twilio():
    with twilio_server() as server:
        yield server


@pytest.fixture
async def client(database_url, tmp_path, trained, twilio):
    settings = make_settings(database_url, tmp_path / "data", **twilio.env())
    async with served(settings, trained) as http:
        async with http.shop.transaction() as session:
            await factories.user(session, "boss@example.com", role=Role.ADMIN)
        yield http


async def _ordered(client, ann: Shopper, *, agree: bool) -> Order:
    """Ann's order placed (not paid yet), with her yes to SMS if `agree`."""
    await to_review(ann, email="ann@example.com")
    await ann.press("Pay €29.90")
    number = ann.text.split("Order ")[1].split(" ")[0]
    async with client.shop.transaction() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        if agree:  # what the chat's consent step does: on the chat's own holder
            await preferences.agree_to_sms(
                session=session, holder=notices.holder_of(session, order)[0], phone_e164=PHONE,
                vault=client.shop.vault, actor=Actor.system("test"), at=now())
        return order


async def test_a_guest_who_agreed_gets_the_confirmation_and_the_shipping_by_sms_once(
        client, twilio):
    ann = Shopper(client)
    order = await _ordered(client, ann, agree=True)
    paid = await client.post(ann.payment_path(), data={"outcome": "pay"})
    assert paid.status_code == 200

    (sms,) = await twilio.wait_for(1)
    assert (sms.account, sms.to, sms.sender) == (ACCOUNT_SID, PHONE, FROM)
    assert sms.auth == (twilio.sid, twilio.token)  # HTTP basic auth: SID and token
    assert sms.body.startswith(f"Thank you! Order {order.number} is confirmed. Payment "
                               "received.")
    assert segments(sms.body) <= 2 and "€" not in sms.body  # no receipt in an SMS

    # The gateway tells us again: no second SMS.
    await client.post(ann.payment_path(), data={"outcome": "pay"})
    assert len(await twilio.wait_for(2, seconds=1)) == 1

    await signed_in_admin(client)
    page = await client.get(f"/admin/orders/{order.number}")
    shipped = await client.post(f"/admin/orders/{order.number}/ship", data={
        "csrf": csrf(page.text), "carrier": "DHL", "tracking": "JD014600006101"})
    assert shipped.status_code == 303
    first, second = await twilio.wait_for(2)
    assert first == sms and second.to == PHONE and segments(second.body) <= 2
    assert second.body.startswith(f"Good news: order {order.number} is on its way with DHL")
    assert second.body.endswith("tracking-parcel.html?tracking-id=JD014600006101")
    assert len(await twilio.wait_for(3, seconds=1)) == 2  # and nothing more comes


async def test_without_a_yes_to_sms_no_sms_is_sent(client, twilio):
    ann = Shopper(client)
    order = await _ordered(client, ann, agree=False)
    assert (await client.post(ann.payment_path(), data={"outcome": "pay"})).status_code == 200
    assert "is confirmed" in (await ann.news())[0]["text"]  # the chat is told
    async with client.shop.transaction() as session:
        order = await session.get(Order, order.id)
        await payments.ship(session=session, order=order, gateways=client.shop.gateways,
                            actor=Actor.system("test"), carrier="DHL",
                            tracking_number="JD014600006101")
    async with client.shop.sessions() as session:  # decided as each change commits
        assert await session.scalar(select(NotificationDelivery.id).where(
            NotificationDelivery.channel == "sms")) is None
    assert await twilio.wait_for(1, seconds=0.5) == [] and twilio.requests == 0
