"""Web push for the web chat: a guest who paid in the web chat subscribes this browser
through the chat's API, and order news arrives at a push service on loopback, signed with
the shop's VAPID key and decryptable only with the browser's keys; once, however often
the news is replayed. A push service's 410 ends the subscription without stopping mail
or the chat. Another chat cannot end the subscription, and a subscription that points at
anything but a public https push service is refused with nothing kept."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from core.audit.actor import Actor
from core.notifications.models import PushSubscription
from core.orders import notices
from core.orders import service as orders
from core.orders.models import Order
from core.orders.states import OrderStatus
from core.payments import service as payments
from tests.conftest import make_settings
from tests.e2e.checkout_steps import to_review
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper
from tests.support.push import PushService


@pytest.fixture
async def push_service():
    async with PushService() as service:
        yield service


@pytest.fixture
async def client(database_url, tmp_path, trained, inbox):
    settings = make_settings(database_url, tmp_path / "data", SMTP_URL=inbox.url,
                             PUSH_ALLOW_LOCAL_ENDPOINTS="true")
    async with served(settings, trained) as http:
        yield http


@pytest.fixture
async def strict_client(database_url, tmp_path, trained):
    """As a real shop runs: no test double may be subscribed."""
    async with served(make_settings(database_url, tmp_path / "data"), trained) as http:
        yield http


def session_of(shopper: Shopper) -> dict[str, str]:
    return {"X-Chat-Session": shopper.session or ""}


async def paid_order(client, shopper: Shopper, email: str = "ann@example.com") -> Order:
    await to_review(shopper, email=email)
    await shopper.press("Pay €29.90")
    number = shopper.text.split("Order ")[1].split(" ")[0]
    assert (await client.post(shopper.payment_path(), data={"outcome": "pay"})).status_code == 200
    assert "is confirmed" in (await shopper.news())[0]["text"]
    async with client.shop.sessions() as session:
        return await session.scalar(select(Order).where(Order.number == number))


async def subscribe(client, shopper: Shopper, push_service: PushService):
    key = await client.get("/webchat/api/push/key", headers=session_of(shopper))
    assert key.status_code == 200 and key.json()["offer"] is True
    push_service.vapid_key = key.json()["key"]
    browser = push_service.browser()
    made = await client.post("/webchat/api/push", json=browser.to_json(),
                             headers=session_of(shopper))
    assert made.status_code == 201, made.text
    return browser


async def advance(client, order: Order, to: OrderStatus) -> None:
    async with client.shop.transaction() as session:
        order = await session.get(Order, order.id)
        await orders.advance(session=session, order=order, to=to, actor=Actor.system("test"))


async def ship(client, order: Order) -> None:
    async with client.shop.transaction() as session:
        order = await session.get(Order, order.id)
        await payments.ship(session=session, order=order, gateways=client.shop.gateways,
                            actor=Actor.system("test"), carrier="DHL",
                            tracking_number="JD014600006101")


async def subscriptions(client) -> list[PushSubscription]:
    async with client.shop.sessions() as session:
        return list(await session.scalars(select(PushSubscription)))


async def test_a_guest_subscribed_in_the_chat_hears_that_the_order_shipped_once(
        client, push_service):
    ann = Shopper(client)
    await ann.say("hello")
    early = await client.get("/webchat/api/push/key", headers=session_of(ann))
    assert early.status_code == 200 and early.json()["offer"] is False  # no order yet
    order = await paid_order(client, ann)
    browser = await subscribe(client, ann, push_service)
    (row,) = await subscriptions(client)
    assert row.chat_key == ann.chat_key and browser.endpoint not in (row.sealed or "")

    await ship(client, order)
    (shipped,) = await push_service.wait_for(1)
    assert shipped.browser == browser.name and shipped.claims["sub"] == "mailto:shop@example.com"
    assert shipped.message == {
        "title": f"Order {order.number} is on its way",
        "body": f"Good news: order {order.number} is on its way with DHL (tracking number "
                "JD014600006101).", "url": "/chat"}
    assert shipped.ttl > 0 and shipped.urgency == "normal"

    async with client.shop.transaction() as session:  # the same news, replayed
        again = await session.get(Order, order.id)
        await notices.shipped(session, again, "DHL", "JD014600006101")
    await advance(client, order, OrderStatus.DELIVERED)
    delivered = (await push_service.wait_for(2))[1]
    assert delivered.message["title"] == f"Order {order.number} has been delivered"
    assert len(await push_service.wait_for(3, seconds=1)) == 2  # and nothing twice
    assert push_service.refusals == []


async def test_an_expired_subscription_ends_and_mail_and_chat_still_go(
        client, push_service, inbox, caplog):
    caplog.set_level(logging.INFO)
    ann = Shopper(client)
    order = await paid_order(client, ann)
    browser = await subscribe(client, ann, push_service)
    push_service.answer[browser.name] = 410

    await advance(client, order, OrderStatus.PROCESSING)
    await push_service.wait_attempts(1)
    for _ in range(100):
        (row,) = await subscriptions(client)
        if row.gone_at is not None:
            break
        await push_service.wait_attempts(99, seconds=0.05)
    assert row.gone_at is not None and row.sealed is None
    assert [r for r in caplog.records if r.getMessage() == "notify.push_gone"]
    assert browser.endpoint not in caplog.text and browser.name not in caplog.text

    await ship(client, order)
    mails = await inbox.wait_for(3)
    assert {m.message["Subject"] for m in mails} >= {f"Order {order.number} is on its way"}
    news = [reply["text"] for reply in await ann.news()]
    if not any("on its way" in text for text in news):
        news += [reply["text"] for reply in await ann.news()]
    assert any("on its way" in text for text in news)
    assert push_service.attempts == [browser.name]  # the gone subscription heard nothing more


async def test_another_chat_cannot_end_a_subscription_but_its_own_chat_can(
        client, push_service):
    ann, bob = Shopper(client), Shopper(client)
    await paid_order(client, ann)
    browser = await subscribe(client, ann, push_service)
    await bob.say("hello")
    gone = await client.request("DELETE", "/webchat/api/push", json={"endpoint": browser.endpoint},
                                headers=session_of(bob))
    assert gone.status_code == 404
    client.cookies.clear()  # the test client keeps the last chat's cookie, as a browser would
    anonymous = await client.request("DELETE", "/webchat/api/push",
                                     json={"endpoint": browser.endpoint})
    assert anonymous.status_code == 401
    (row,) = await subscriptions(client)
    assert row.gone_at is None
    ended = await client.request("DELETE", "/webchat/api/push",
                                 json={"endpoint": browser.endpoint}, headers=session_of(ann))
    assert ended.status_code == 200
    (row,) = await subscriptions(client)
    assert row.gone_at is not None and row.sealed is None


async def test_hostile_subscriptions_are_refused_and_nothing_is_kept(strict_client,
                                                                    push_service):
    client = strict_client
    ann = Shopper(client)
    await ann.say("hello")
    good = push_service.browser().to_json()
    keys = good["keys"]
    path = "/push/x"
    hostile = [
        {**good},                                                  # http, loopback
        {**good, "endpoint": "http://push.example.com" + path},    # http
        {**good, "endpoint": "https://127.0.0.1" + path},          # loopback
        {**good, "endpoint": "https://10.1.2.3" + path},           # private
        {**good, "endpoint": "https://169.254.169.254/latest"},    # link-local (cloud metadata)
        {**good, "endpoint": "https://[::1]" + path},
        {**good, "endpoint": "https://localhost" + path},
        {**good, "endpoint": "https://metadata.google.internal" + path},
        {**good, "endpoint": "https://push.example.com:8443" + path},
        {**good, "endpoint": "https://user@push.example.com" + path},
        {**good, "endpoint": "https://push.example.com/" + "a" * 2000},
        {**good, "endpoint": "https://fcm.googleapis.com/fcm/send/x",
         "keys": {**keys, "p256dh": "A" * 3000}},                   # huge key
        {**good, "endpoint": "https://fcm.googleapis.com/fcm/send/x",
         "keys": {**keys, "p256dh": "BA" + "A" * 85}},              # not on the curve
        {**good, "endpoint": "https://fcm.googleapis.com/fcm/send/x",
         "keys": {**keys, "auth": "AAAA"}},                         # short secret
        {"endpoint": "https://fcm.googleapis.com/fcm/send/x"},     # no keys
        ["https://fcm.googleapis.com/fcm/send/x"],
    ]
    for body in hostile:
        answer = await client.post("/webchat/api/push", json=body, headers=session_of(ann))
        assert answer.status_code == 400, (body, answer.text)
        assert "error" in answer.json()
    huge = await client.post("/webchat/api/push", headers=session_of(ann),
                             json={**good, "keys": {**keys, "p256dh": "A" * 20_000}})
    assert huge.status_code == 413
    client.cookies.clear()
    no_chat = await client.post("/webchat/api/push", json=good)
    assert no_chat.status_code == 401
    async with client.shop.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PushSubscription)) == 0
    fine = {**good, "endpoint": "https://fcm.googleapis.com/fcm/send/abc"}
    kept = await client.post("/webchat/api/push", json=fine, headers=session_of(ann))
    assert kept.status_code == 201  # the same keys to a public push service are fine


async def test_a_subscribed_chat_can_switch_order_updates_in_this_browser_off(
        client, push_service, inbox):
    ann = Shopper(client)
    order = await paid_order(client, ann)
    await ann.say("/settings")
    assert "Browser" not in ann.text        # nothing to switch before a browser subscribed
    await subscribe(client, ann, push_service)
    await ann.say("/settings")
    assert "Order updates: Chat on, Email on, Browser on." in ann.text
    await ann.press("Order updates · Browser: on (turn off)")
    assert "Order updates: Chat on, Email on, Browser off." in ann.text

    await ship(client, order)
    await inbox.wait_for(2)                 # the receipt, then the shipping mail
    assert len(await push_service.wait_for(1, seconds=1)) == 0
