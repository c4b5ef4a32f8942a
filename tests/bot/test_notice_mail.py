"""Sending queued order mail: a refused address is given up with the server's reason and
does not hold back the others; a server that is down means trying again later."""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.channels.delivery import Outcome
from bot.mail_channel import MailChannel
from core.notifications import service as notifications
from core.notifications.events import Channel, Event, Recipient
from core.notifications.models import NotificationDelivery
from core.shop import Shop
from tests.conftest import make_settings
from tests.support.smtp import smtp_server

EVENT = Event(kind="order_delivered", subject="order:1", context={"number": "CC-7KX3MQ"})



async def _shop(database_url, tmp_path, smtp_url) -> Shop:
    return Shop.from_settings(make_settings(database_url, tmp_path / "data",
                                            SMTP_URL=smtp_url))


async def _queue(shop: Shop, *addresses: str) -> list[str]:
    async with shop.transaction() as session:
        made = await notifications.notify(
            session=session, event=EVENT,
            recipients=[Recipient(Channel.EMAIL, address) for address in addresses])
        return [notifications.notice_chat_key(d.id).partition(":")[2] for d in made]


async def test_a_refused_address_is_given_up_and_the_others_still_go(database_url, tmp_path,
                                                                     inbox, caplog):
    inbox.refuse.add("gone@example.com")
    shop = await _shop(database_url, tmp_path, inbox.url)
    try:
        gone, ann = await _queue(shop, "gone@example.com", "ann@example.com")
        mail = MailChannel(shop)
        caplog.set_level(logging.INFO, logger="chatcart.notice_mail")
        assert await mail.send(gone, []) is Outcome.UNDELIVERABLE
        (refused,) = [r for r in caplog.records if r.getMessage() == "notify.mail_refused"]
        assert refused.fields["reason"].startswith("550 5.1.1 No such mailbox")
        assert await mail.send(ann, []) is Outcome.SENT
        (received,) = inbox.received
        assert received.recipients == ["ann@example.com"]
        assert received.message["Subject"] == "Order CC-7KX3MQ has been delivered"
        async with shop.sessions() as session:  # no receipt is kept once it went (or not)
            rows = await session.scalars(select(NotificationDelivery.content_sealed))
            assert list(rows) == [None, None]
        assert await mail.send(ann, []) is Outcome.UNDELIVERABLE  # nothing left to send
    finally:
        await shop.close()


async def test_a_server_that_is_down_means_trying_again_later(database_url, tmp_path):
    with smtp_server() as closed:
        url = closed.url
    shop = await _shop(database_url, tmp_path, url)  # nothing listens there now
    try:
        (ann,) = await _queue(shop, "ann@example.com")
        assert await MailChannel(shop).send(ann, []) is Outcome.FAILED
        async with shop.sessions() as session:  # kept for the next try
            assert await session.scalar(select(NotificationDelivery.content_sealed))
        assert await MailChannel(shop).send("notice-999999", []) is Outcome.UNDELIVERABLE
    finally:
        await shop.close()
