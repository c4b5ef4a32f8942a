"""Order news by mail: a guest who paid through the web chat gets the receipt at the
address given at checkout, on a real SMTP server, and every later update, each once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.audit.actor import Actor
from core.orders import service as orders
from core.orders.models import Order
from core.orders.states import OrderStatus
from core.payments import service as payments
from tests.conftest import make_settings
from tests.e2e.checkout_steps import to_review
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper


@pytest.fixture
async def client(database_url, tmp_path, trained, inbox):
    settings = make_settings(database_url, tmp_path / "data", SMTP_URL=inbox.url)
    async with served(settings, trained) as http:
        yield http


async def _order(client, number: str) -> Order:
    async with client.shop.sessions() as session:
        return await session.scalar(select(Order).where(Order.number == number))


async def test_a_guest_gets_the_receipt_by_mail_once_and_each_update_after(client, inbox):
    ann = Shopper(client)
    await to_review(ann, email="ann@example.com")
    await ann.press("Pay €29.90")
    number = ann.text.split("Order ")[1].split(" ")[0]
    paid = await client.post(ann.payment_path(), data={"outcome": "pay"})
    assert paid.status_code == 200
    chat = (await ann.news())[0]["text"]
    assert f"Order {number} is confirmed" in chat  # the chat is told as before

    (mail,) = await inbox.wait_for(1)
    assert mail.recipients == ["ann@example.com"] and mail.sender == "shop@example.com"
    headers = mail.message
    assert headers["Subject"] == f"Order {number} is confirmed"
    assert headers.get_content_type() == "multipart/alternative"
    assert headers["Message-ID"].endswith("@127.0.0.1>") and headers["Date"]
    text, html = mail.part("plain"), mail.part("html")
    assert f"Thank you! Order {number} is confirmed." in text and "Payment received." in text
    assert "2 × Blue mug (€12.50) = €25.00" in text and "Total: €29.90" in text
    assert "Ships to: Ann Lee, 12 Rue de Rivoli, 75001 Paris, France" in text
    assert "2 × Blue mug (€12.50) = €25.00</li>" in html and "<h1>" in html
    assert "+336" not in text + html  # the phone stays out of the receipt
    follow = f"send its number with this email address, like this: {number} ann@example.com"
    assert follow in text and follow in html  # a guest can follow it from any chat

    # The gateway tells us again: nobody is told twice.
    await client.post(ann.payment_path(), data={"outcome": "pay"})
    order = await _order(client, number)
    async with client.shop.transaction() as session:
        order = await session.get(Order, order.id)
        await orders.advance(session=session, order=order, to=OrderStatus.PROCESSING,
                             actor=Actor.system("test"))
    async with client.shop.transaction() as session:
        order = await session.get(Order, order.id)
        await payments.ship(session=session, order=order, gateways=client.shop.gateways,
                            actor=Actor.system("test"), carrier="DHL",
                            tracking_number="JD014600006101")
    mails = list(await inbox.wait_for(3))
    assert len(await inbox.wait_for(4, seconds=1)) == 3  # and nothing more comes
    assert len(mails) == 3 and {m.message["Subject"] for m in mails} == {  # in any order
        f"Order {number} is confirmed", f"Order {number} is being prepared",
        f"Order {number} is on its way"}
    (shipped,) = [m for m in mails if m.message["Subject"].endswith("on its way")]
    assert "tracking number JD014600006101" in shipped.part("plain")
    assert ('href="https://www.dhl.com/global-en/home/tracking/tracking-parcel.html'
            '?tracking-id=JD014600006101"') in shipped.part("html")
    news = [reply["text"] for reply in await ann.news()]
    if len(news) < 2:
        news += [reply["text"] for reply in await ann.news()]
    assert news == [f"Order {number} is being prepared. We'll tell you when it ships.",
                    f"Good news: order {number} is on its way with DHL (tracking number "
                    "JD014600006101)."]
    assert len({m.message["Message-ID"] for m in mails}) == 3
