"""Quiet hours set in the chat, in the shopper's own time zone: order news that can wait is
queued to the end of their quiet hours (chat and mail alike), urgent news goes at once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.audit.actor import Actor
from core.clock import now
from core.notifications import service as notifications
from core.orders import service as orders
from core.orders.models import Order
from core.orders.states import OrderStatus
from core.outbox.models import OutboxMessage
from core.payments import service as payments
from tests.conftest import make_settings
from tests.e2e.checkout_steps import to_review
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper

NEW_YORK = ZoneInfo("America/New_York")
SYSTEM = Actor.system("test")



@pytest.fixture
async def client(database_url, tmp_path, trained, inbox):
    settings = make_settings(database_url, tmp_path / "data", SMTP_URL=inbox.url)
    async with served(settings, trained) as http:
        yield http


async def _rows_since(client, last_id: int) -> list[OutboxMessage]:
    async with client.shop.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.id > last_id).order_by(OutboxMessage.id)))


async def test_news_that_can_wait_waits_to_the_end_of_quiet_hours_in_their_zone(
        client, inbox, monkeypatch):
    ann = Shopper(client)
    await to_review(ann, email="ann@example.com")
    await ann.press("Pay €29.90")
    number = ann.text.split("Order ")[1].split(" ")[0]
    await client.post(ann.payment_path(), data={"outcome": "pay"})
    await inbox.wait_for(1)
    await ann.say("/settings")
    await ann.press("Quiet 22:00–07:00")
    await ann.say("time zone America/New_York")
    assert "Quiet hours: 22:00 to 07:00 (America/New_York)." in ann.text

    # 23:30 in New York, two days from now: inside their quiet hours.
    day = (now() + timedelta(days=2)).astimezone(NEW_YORK).date()
    late = datetime.combine(day, time(23, 30), NEW_YORK).astimezone(UTC)
    morning = datetime.combine(day + timedelta(days=1), time(7, 0), NEW_YORK).astimezone(UTC)
    monkeypatch.setattr(notifications, "now", lambda: late)
    async with client.shop.sessions() as session:
        last = max((await session.scalars(select(OutboxMessage.id))).all())
    async with client.shop.transaction() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        await orders.advance(session=session, order=order, to=OrderStatus.PROCESSING,
                             actor=SYSTEM)
    waiting = await _rows_since(client, last)
    assert [row.chat_key.split(":")[0] for row in waiting] == ["web", "email"]
    assert {row.next_attempt_at for row in waiting} == {morning}
    assert len(await inbox.wait_for(2, seconds=1)) == 1  # nothing goes out meanwhile

    async with client.shop.transaction() as session:  # a refund is urgent: it goes now
        order = await session.scalar(select(Order).where(Order.number == number))
        await payments.refund(session=session, order=order, amount_minor=500,
                              gateways=client.shop.gateways, actor=SYSTEM, reason="test")
    urgent = await _rows_since(client, waiting[-1].id)
    assert len(urgent) == 2 and {row.next_attempt_at for row in urgent} == {None}
    mails = await inbox.wait_for(2)
    assert [m.message["Subject"] for m in mails[1:]] == [f"A refund for order {number}"]
