"""The notification service: an event reaches each recipient once per channel, however
often it is replayed, through the durable outbox, with the mail's words sealed at rest."""

from sqlalchemy import func, select

from core.notifications import service as notifications
from core.notifications.events import Channel, Event, Recipient
from core.notifications.models import NotificationDelivery
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage

SHIPPED = Event(kind="order_shipped", subject="order:7",
                context={"number": "CC-7KX3MQ", "carrier": "DHL", "tracking": "JD0001",
                         "tracking_url": "https://track.example/JD0001"})
GUEST = [Recipient(Channel.CHAT, "web:abcdefgh"), Recipient(Channel.EMAIL, "Ann@Example.com")]


async def _tell(shop, event=SHIPPED, recipients=GUEST):
    async with shop.transaction() as session:
        return [(d.channel, d.id) for d in
                await notifications.notify(session=session, event=event, recipients=recipients)]


async def _queued(shop) -> list[OutboxMessage]:
    async with shop.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_replayed_event_reaches_each_recipient_once_per_channel(shop):
    first = await _tell(shop)
    assert [channel for channel, _ in first] == ["chat", "email"]
    for _ in range(3):  # the webhook again, the job again
        assert await _tell(shop) == []
    # the same address written otherwise is the same recipient
    assert await _tell(shop, recipients=[Recipient(Channel.EMAIL, "ann@example.com ")]) == []
    messages = await _queued(shop)
    mail_id = first[1][1]
    assert [m.chat_key for m in messages] == ["web:abcdefgh", f"email:notice-{mail_id}"]


async def test_another_occurrence_or_another_recipient_is_told_again(shop):
    await _tell(shop)
    again = Event(kind=SHIPPED.kind, subject=SHIPPED.subject, context=SHIPPED.context,
                  occurrence="second parcel")
    assert len(await _tell(shop, event=again)) == 2
    assert len(await _tell(shop, recipients=[Recipient(Channel.EMAIL, "bo@example.com")])) == 1
    assert len(await _queued(shop)) == 5


async def test_nothing_is_told_when_the_change_rolls_back(shop):
    try:
        async with shop.transaction() as session:
            await notifications.notify(session=session, event=SHIPPED, recipients=GUEST)
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    assert await _queued(shop) == []
    assert len(await _tell(shop)) == 2  # and the event can still be told when it happens


async def test_the_chat_gets_the_words_and_buttons_and_the_mail_waits_sealed(shop):
    buttons = [[{"label": "Order status", "action": "ord:CC-7KX3MQ"}]]
    event = Event(kind=SHIPPED.kind, subject=SHIPPED.subject, context=SHIPPED.context,
                  buttons=buttons)
    (_, _chat), (_, mail_id) = await _tell(shop, event=event)
    chat, mail = await _queued(shop)
    words = outbox.opened(chat.payload, shop.vault)
    assert words["text"] == ("Good news: order CC-7KX3MQ is on its way with DHL "
                             "(tracking number JD0001).")
    assert words["buttons"] == buttons
    async with shop.sessions() as session:
        row = await session.get(NotificationDelivery, mail_id)
        assert "Ann@Example.com" not in (row.content_sealed or "") and "Ann" not in row.key
        content = await notifications.mail_for(session=session, delivery_id=mail_id,
                                               vault=shop.vault)
    assert content["to"] == "Ann@Example.com"
    assert content["subject"] == "Order CC-7KX3MQ is on its way"
    assert "https://track.example/JD0001" in content["text"]
    assert 'href="https://track.example/JD0001"' in content["html"]
    assert outbox.opened(mail.payload, shop.vault)["text"] == content["subject"]


async def test_a_channel_the_event_has_no_words_for_is_skipped(shop):
    expired = Event(kind="order_payment_expired", subject="order:7",
                    context={"number": "CC-7KX3MQ"})
    assert [c for c, _ in await _tell(shop, event=expired)] == ["chat"]
    sms = [Recipient(Channel.SMS, "+4915112345678")]
    assert await _tell(shop, recipients=sms) == []  # no SMS channel yet
    async with shop.sessions() as session:
        assert await session.scalar(select(func.count(NotificationDelivery.id))) == 1


async def test_deliveries_past_their_90_days_are_forgotten_and_recent_ones_kept(shop):
    from datetime import timedelta

    from sqlalchemy import update

    from core.clock import now
    from core.notifications.models import NotificationDelivery

    old = Event(kind="order_preparing", subject="order:1", context={"number": "CC-7KX3MQ"})
    new = Event(kind="order_preparing", subject="order:2", context={"number": "CC-7KX3MP"})
    to = [Recipient(Channel.CHAT, "web:abc")]
    async with shop.transaction() as session:
        (first,) = await notifications.notify(session=session, event=old, recipients=to)
        await notifications.notify(session=session, event=new, recipients=to)
        await session.execute(update(NotificationDelivery)
                              .where(NotificationDelivery.id == first.id)
                              .values(created_at=now() - timedelta(days=91)))
    async with shop.transaction() as session:
        assert await notifications.purge_old(session=session) == 1
        assert [d.subject for d in await session.scalars(select(NotificationDelivery))] == [
            "order:2"]
