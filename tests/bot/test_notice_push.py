"""Sending queued web push: what the push service answers decides between sent, trying
again later and giving up; an expired subscription ends; the sender never reaches an
address inside the network, however the endpoint's name resolves, and follows no redirect."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from bot.channels.delivery import Outcome
from bot.notice_push import NoticePush, payload
from core.audit.actor import Actor
from core.notifications import push
from core.notifications import service as notifications
from core.notifications.events import Channel, Event
from core.notifications.models import NotificationDelivery, PushSubscription
from core.notifications.vapid import keys_in
from core.shop import Shop
from tests.conftest import make_settings
from tests.support.push import Browser, PushService


@pytest.fixture
async def service():
    async with PushService() as running:
        yield running


async def _shop(database_url, tmp_path, allow_local: bool = True) -> Shop:
    return Shop.from_settings(make_settings(
        database_url, tmp_path / "data", PUSH_ALLOW_LOCAL_ENDPOINTS=str(allow_local).lower()))


async def _subscribed(shop: Shop, service: PushService, endpoint: str | None = None
                      ) -> tuple[Browser, int]:
    service.vapid_key = keys_in(shop.settings.data_dir).public_key
    browser = service.browser()
    sub = browser.to_json()
    async with shop.transaction() as session:
        row = await push.subscribe(session=session, chat_key="web:ann",
                                   endpoint=endpoint or sub["endpoint"],
                                   p256dh=sub["keys"]["p256dh"], auth=sub["keys"]["auth"],
                                   actor=Actor.system("test"), allow_local=True)
        return browser, row.id


async def _queue(shop: Shop, occurrence: str = "") -> str:
    """Order news for the chat's subscriptions; the push's outbox key after `push:`."""
    event = Event(kind="order_delivered", subject="order:1", occurrence=occurrence,
                  context={"number": "CC-7KX3MQ"})
    async with shop.transaction() as session:
        (made,) = await notifications.notify(
            session=session, event=event,
            recipients=await push.recipients(session=session, chat_key="web:ann"))
        assert made.channel == "push"
        return notifications.notice_chat_key(made.id, Channel.PUSH).partition(":")[2]


async def _state(shop: Shop, subscription_id: int, notice: str) -> tuple[bool, bool]:
    """Whether the subscription is live, and whether the notice still waits sealed."""
    async with shop.sessions() as session:
        row = await session.get(PushSubscription, subscription_id)
        sealed = await session.scalar(select(NotificationDelivery.content_sealed).where(
            NotificationDelivery.id == int(notice.partition("-")[2])))
        return row.gone_at is None, sealed is not None


async def test_each_answer_of_the_push_service_is_sent_retried_or_given_up(
        database_url, tmp_path, service, caplog):
    caplog.set_level(logging.INFO, logger="chatcart.notice_push")
    shop = await _shop(database_url, tmp_path)
    sender = NoticePush(shop)
    try:
        browser, sub = await _subscribed(shop, service)
        expected = {429: (Outcome.FAILED, True, True), 503: (Outcome.FAILED, True, True),
                    400: (Outcome.UNDELIVERABLE, True, False),
                    413: (Outcome.UNDELIVERABLE, True, False),
                    307: (Outcome.UNDELIVERABLE, True, False)}
        for status, (outcome, live, waiting) in expected.items():
            service.answer[browser.name] = status
            notice = await _queue(shop, occurrence=str(status))
            assert await sender.send(notice, []) is outcome, status
            assert await _state(shop, sub, notice) == (live, waiting), status
        assert f"{browser.name}/moved" not in service.attempts  # no redirect followed
        refused = [r.fields for r in caplog.records if r.getMessage() == "notify.push_refused"]
        assert [f["reason"] for f in refused] == ["400 from push service",
                                                  "413 from push service",
                                                  "307 from push service"]

        del service.answer[browser.name]
        notice = await _queue(shop, occurrence="fine")
        assert await sender.send(notice, []) is Outcome.SENT
        assert await _state(shop, sub, notice) == (True, False)
        (received,) = service.received
        assert received.message == {"title": "Order CC-7KX3MQ has been delivered",
                                    "body": received.message["body"], "url": "/chat"}
        assert "CC-7KX3MQ" in received.message["body"]

        service.answer[browser.name] = 410
        notice = await _queue(shop, occurrence="expired")
        assert await sender.send(notice, []) is Outcome.UNDELIVERABLE
        assert await _state(shop, sub, notice) == (False, False)
        (gone,) = [r.fields for r in caplog.records if r.getMessage() == "notify.push_gone"]
        assert gone["host"] == "127.0.0.1" and gone["reason"] == "410 from push service"
        assert browser.name not in caplog.text  # endpoints are never logged
        async with shop.transaction() as session:
            assert await push.recipients(session=session, chat_key="web:ann") == []
    finally:
        await sender.close()
        await shop.close()


async def test_a_push_service_that_cannot_be_reached_means_trying_again_later(
        database_url, tmp_path, service):
    shop = await _shop(database_url, tmp_path)
    sender = NoticePush(shop)
    try:
        async with PushService() as closed:
            dead = f"{closed.url}/push/nobody"
        _browser, sub = await _subscribed(shop, service, endpoint=dead)
        notice = await _queue(shop)
        assert await sender.send(notice, []) is Outcome.FAILED
        assert await _state(shop, sub, notice) == (True, True)
        assert await sender.send("notice-999999", []) is Outcome.UNDELIVERABLE
    finally:
        await sender.close()
        await shop.close()


async def test_a_name_that_resolves_inside_the_network_is_never_reached(
        database_url, tmp_path, service, caplog):
    caplog.set_level(logging.INFO, logger="chatcart.notice_push")
    shop = await _shop(database_url, tmp_path, allow_local=False)
    sender = NoticePush(shop)
    try:
        port = service.url.rsplit(":", 1)[1]
        # As if a public-looking name had been made to resolve to loopback.
        browser, sub = await _subscribed(shop, service, endpoint=f"http://localhost:{port}/push/x")
        notice = await _queue(shop)
        assert await sender.send(notice, []) is Outcome.UNDELIVERABLE
        assert service.attempts == [] and await _state(shop, sub, notice) == (False, False)
        (gone,) = [r.fields for r in caplog.records if r.getMessage() == "notify.push_gone"]
        assert gone["reason"] == "private address"
    finally:
        await sender.close()
        await shop.close()


def test_a_push_shows_the_first_line_only_so_a_receipt_stays_in_the_chat():
    shown = json.loads(payload({"title": "Order CC-1 is confirmed", "kind": "order_confirmed",
                                "body": "Thank you! Order CC-1 is confirmed. Payment received."
                                        "\n• 2 × Blue mug\nShips to: Ann Lee, 12 Rue de Rivoli"}))
    assert shown == {"title": "Order CC-1 is confirmed", "url": "/chat",
                     "body": "Thank you! Order CC-1 is confirmed. Payment received."}
    long = json.loads(payload({"title": "t", "body": "word " * 100}))
    assert len(long["body"]) <= 240 and long["body"].endswith("…")
