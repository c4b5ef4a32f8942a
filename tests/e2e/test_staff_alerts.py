"""Staff alerts, batched (issue 18, item 5): 500 products crossing their low-stock
threshold in one catalog import and a shopper left waiting make ONE message in
SLACK_ALERTS_CHANNEL (the Slack double) and ONE mail per admin (a real SMTP server), even
with two workers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot import sweeper
from core.accounts.models import Role, User
from core.audit.actor import Actor
from core.catalog import importer
from core.clock import now
from core.nudges.models import StaffAlert
from core.shop import Shop
from core.support.models import HandoffRequest
from tests import factories
from tests.e2e.conftest import channel_settings, served
from tests.e2e.platforms import slack_text
from tests.e2e.webchat import Shopper

ALERTS = "C0ALERTS01"



@pytest.fixture
async def client(database_url, tmp_path, trained, telegram_api, slack_api, inbox):
    settings = channel_settings(database_url, tmp_path / "data", telegram_api, slack_api,
                                SLACK_ALERTS_CHANNEL=ALERTS, SMTP_URL=inbox.url)
    async with served(settings, trained) as http:
        yield http


async def _alerts(shop: Shop) -> int:
    async with shop.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(StaffAlert)))


async def test_an_import_of_500_low_products_and_a_waiting_shopper_make_one_alert_each_way(
        client, slack_api, inbox):
    shop: Shop = client.shop
    async with shop.transaction() as session:
        (admin,) = await session.scalars(select(User.email).where(User.role == Role.ADMIN))
        for number in range(500):   # well stocked: nobody is told of them
            await factories.product(session, name=f"Lamp {number:03}", stock=10, threshold=5,
                                    sku=f"LAMP-{number:03}", category="Lamps")
    assert await _alerts(shop) == 0
    csv = "sku,name,category,price,stock,low_stock_threshold\n" + "".join(
        f"LAMP-{number:03},Lamp {number:03},Lamps,20.00,2,5\n" for number in range(500))
    rows = importer.read_rows(csv.encode(), filename="stock.csv", currency="EUR", base=None)
    async with shop.transaction() as session:   # the stock count: 500 fall to 2, one import
        await importer.import_rows(session=session, rows=rows, storage=shop.images,
                                   currency="EUR", actor=Actor.system("test"))
    assert await _alerts(shop) == 500
    ann = Shopper(client)
    await ann.say("talk to a person")
    async with shop.transaction() as session:
        await session.execute(update(HandoffRequest).values(
            created_at=now() - timedelta(minutes=11)))
    await sweeper.expire_once(shop)   # the wait becomes an alert

    await sweeper.nudge_once(shop)    # the batch's minute has not passed: nothing yet
    await asyncio.sleep(0.3)
    assert not slack_api.of("chat.postMessage", chat=ALERTS) and not inbox.received

    async with shop.transaction() as session:
        await session.execute(update(StaffAlert).where(StaffAlert.sent_at.is_(None))
                              .values(created_at=now() - timedelta(seconds=61)))
    other = Shop.from_settings(shop.settings)   # a second worker, at the same moment
    try:
        await asyncio.gather(sweeper.nudge_once(shop), sweeper.nudge_once(other))
        await asyncio.gather(sweeper.nudge_once(shop), sweeper.nudge_once(other))
    finally:
        await other.close()
    call = await slack_api.wait_for(lambda: next(iter(slack_api.of(
        "chat.postMessage", chat=ALERTS)), None))
    text = slack_text(call)
    assert "500 product(s) are running low on stock: Lamp 000, Lamp 001" in text
    assert "and 490 more" in text and "Lamp 499" not in text and "/admin/stock" in text
    assert "1 shopper(s) are waiting for a person" in text and "/admin/handoffs" in text
    (mail,) = await inbox.wait_for(1)
    assert mail.recipients == [admin] and mail.message["Subject"] == "Alerts from your shop"
    assert "500 product(s) are running low" in mail.message.get_content()
    await asyncio.sleep(0.5)
    assert len(slack_api.of("chat.postMessage", chat=ALERTS)) == 1 and len(inbox.received) == 1
