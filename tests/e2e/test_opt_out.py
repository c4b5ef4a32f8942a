"""The issue's contract for opting out: a guest paid in the web chat through the offline
gateway gets mail on a real SMTP server with the subject, HTML and text parts, a link to
their choices and List-Unsubscribe with one-click; once they turn email off (typed, or
with the /settings buttons, or one-click from the mail's header) the next event sends no
mail, while the chat is still told. A spent, tampered or expired link answers 404 and
changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from core.audit.actor import Actor
from core.audit.models import AuditEvent
from core.clock import now
from core.notifications import holders, preferences
from core.notifications.events import Channel
from core.notifications.kinds import Category
from core.notifications.links import LinkSigner
from core.notifications.models import NotificationDelivery
from core.orders import service as orders
from core.orders.models import Order
from core.orders.states import OrderStatus
from core.outbox.models import OutboxMessage
from core.payments import service as payments
from tests.conftest import SECRET, make_settings
from tests.e2e.checkout_steps import to_review
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper
from tests.support.smtp import Received


@pytest.fixture
async def client(database_url, tmp_path, trained, inbox):
    settings = make_settings(database_url, tmp_path / "data", SMTP_URL=inbox.url)
    async with served(settings, trained) as http:
        yield http


async def _paid(client, inbox, email: str = "ann@example.com") -> tuple[Shopper, str,
                                                                          Received]:
    """A guest's order paid on the test page; its confirmation mail."""
    ann = Shopper(client)
    await to_review(ann, email=email)
    await ann.press("Pay €29.90")
    number = ann.text.split("Order ")[1].split(" ")[0]
    assert (await client.post(ann.payment_path(), data={"outcome": "pay"})).status_code == 200
    assert f"Order {number} is confirmed" in (await ann.news())[0]["text"]
    (mail,) = await inbox.wait_for(1)
    return ann, number, mail


async def _advance(client, number: str, to: OrderStatus) -> None:
    async with client.shop.transaction() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        await orders.advance(session=session, order=order, to=to, actor=Actor.system("test"))


async def _email_on(client, number: str) -> bool:
    async with client.shop.sessions() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        choices = await preferences.choices_of(
            session=session, holder=holders.of_order(client.shop.vault, order))
    return preferences.is_on(Category.ORDERS, Channel.EMAIL, choices)


def _path(url: str) -> str:
    return urlsplit(url).path


def _unsubscribe_path(mail: Received) -> str:
    header = mail.message["List-Unsubscribe"]
    match = re.fullmatch(r"<(https?://[^>]+)>", header)
    assert match, header
    return _path(match.group(1))


async def _preparing_tells_chat_not_mail(client, inbox, ann: Shopper, number: str,
                                         mails_before: int) -> None:
    await _advance(client, number, OrderStatus.PROCESSING)
    news = [reply["text"] for reply in await ann.news()]
    assert news == [f"Order {number} is being prepared. We'll tell you when it ships."]
    async with client.shop.sessions() as session:  # decided in the change's transaction
        mailed = await session.scalar(select(func.count()).select_from(NotificationDelivery)
                                      .where(NotificationDelivery.kind == "order_preparing",
                                             NotificationDelivery.channel == "email"))
        queued = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.chat_key.like("email:notice-%")))
    assert mailed == 0 and queued == mails_before
    assert len(await inbox.wait_for(mails_before + 1, seconds=0.5)) == mails_before


async def test_the_mail_has_both_parts_a_settings_link_and_one_click_unsubscribe(
        client, inbox):
    _ann, number, mail = await _paid(client, inbox)
    assert mail.message["Subject"] == f"Order {number} is confirmed"
    assert mail.message.get_content_type() == "multipart/alternative"
    text, html = mail.part("plain"), mail.part("html")
    assert f"Order {number} is confirmed" in text and "<h1>" in html
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert _unsubscribe_path(mail).startswith("/notifications/unsubscribe/")
    link = re.search(r"Choose what we send you, and how: (\S+)", text)
    assert link and _path(link.group(1)) in html  # the same page, linked in both parts
    page = await client.get(_path(link.group(1)))
    assert page.status_code == 200 and "Order updates" in page.text


async def test_turning_email_off_in_the_chat_stops_the_next_mail_but_not_the_chat(
        client, inbox):
    ann, number, _mail = await _paid(client, inbox)
    await ann.say("turn off email notifications")
    assert "won't come by Email any more" in ann.text
    assert "Undo" in ann.buttons()
    assert not await _email_on(client, number)
    await _preparing_tells_chat_not_mail(client, inbox, ann, number, 1)

    await ann.press("Undo")  # and back: the next news is mailed again
    assert await _email_on(client, number)
    async with client.shop.transaction() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        await payments.ship(session=session, order=order, gateways=client.shop.gateways,
                            actor=Actor.system("test"), carrier="DHL", tracking_number="JD01")
    mails = await inbox.wait_for(2)
    assert [m.message["Subject"] for m in mails[1:]] == [f"Order {number} is on its way"]


async def test_the_settings_buttons_turn_order_mail_off(client, inbox):
    ann, number, _mail = await _paid(client, inbox)
    await ann.say("/settings")
    assert "Order updates: Chat on, Email on." in ann.text
    await ann.press("Order updates · Email: on")
    assert "Order updates: Chat on, Email off." in ann.text
    assert not await _email_on(client, number)
    await _preparing_tells_chat_not_mail(client, inbox, ann, number, 1)
    async with client.shop.sessions() as session:
        changes = await session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "notifications.preference"))
        identity = await session.scalar(select(AuditEvent.actor_identity_id).where(
            AuditEvent.action == "notifications.preference"))
    assert changes == 1 and identity is not None  # audited, as the chat that did it


async def test_one_click_from_the_header_stops_order_mail_once_then_404(client, inbox):
    ann, number, mail = await _paid(client, inbox)
    path = _unsubscribe_path(mail)
    prefetched = await client.get(path)  # a mail scanner's GET changes nothing
    assert prefetched.status_code == 200 and await _email_on(client, number)
    posted = await client.post(path, content=b"List-Unsubscribe=One-Click",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert posted.status_code == 200 and not await _email_on(client, number)
    await _preparing_tells_chat_not_mail(client, inbox, ann, number, 1)
    again = await client.post(path, content=b"List-Unsubscribe=One-Click",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert again.status_code == 404
    assert (await client.get(path)).status_code == 404


async def test_a_tampered_or_expired_link_is_not_found_and_changes_nothing(client, inbox):
    _ann, number, mail = await _paid(client, inbox)
    path = _unsubscribe_path(mail)
    token = path.rsplit("/", 1)[1]
    body, mac = token.split(".")
    tampered = f"{body}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"
    async with client.shop.sessions() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
    holder = holders.of_order(client.shop.vault, order)[-1]   # the email's, as in the mail
    expired = LinkSigner(SECRET).make(holder, "unsubscribe:orders",
                                      at=now() - timedelta(days=61))
    other_key = LinkSigner("another-secret-key-0123456789abcdef").make(holder,
                                                                       "unsubscribe:orders")
    for bad in (tampered, expired, other_key, "x" * 5000, "not-a-token"):
        for method in ("GET", "POST"):
            answer = await client.request(
                method, f"/notifications/unsubscribe/{bad}",
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert answer.status_code == 404, (bad[:20], method)
        save = await client.post(f"/notifications/{bad}", data={"quiet": "off"})
        assert save.status_code == 404
    assert await _email_on(client, number)
    async with client.shop.sessions() as session:
        assert not await session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("notifications.%")))
