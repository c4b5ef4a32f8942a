"""What a non-chat delivery seals so its sender can check again as it goes
(`service.still_wanted`), and whose link a mail carries: the holder its recipient's inbox
proves (an account's, else that address's `email:`), never a chat's."""

from __future__ import annotations

from core.audit.actor import Actor
from core.clock import now
from core.notifications import preferences
from core.notifications import service as notifications
from core.notifications.events import Channel, Event, Recipient
from core.notifications.kinds import Category

SYSTEM = Actor.system("test")
PHONE = "+33612345678"
SHIPPED = Event(kind="order_shipped", subject="order:7",
                context={"number": "CC-7KX3MQ", "carrier": "DHL", "tracking": "JD0001",
                         "tracking_url": "https://track.example/JD0001"})


async def _sealed(shop, holders, recipients) -> dict[Channel, dict]:
    async with shop.transaction() as session:
        made = await notifications.notify(session=session, event=SHIPPED,
                                          recipients=recipients, holder=holders)
        found = {}
        for delivery in made:
            content = await notifications.sealed_for(session=session, delivery_id=delivery.id,
                                                     vault=shop.vault)
            found[Channel(delivery.channel)] = content
        return found


async def test_a_guest_mail_is_signed_for_its_address_never_for_the_chat(shop):
    chat = preferences.holder_for(shop.vault, chat_key="web:abcdefgh")
    email = preferences.holder_for(shop.vault, email="ann@example.com")
    sealed = await _sealed(shop, [chat, email], [Recipient(Channel.EMAIL, "Ann@Example.com")])
    mail = sealed[Channel.EMAIL]
    assert mail["holder"] == email and mail["holders"] == [chat, email]
    assert (mail["category"], mail["kind"]) == ("orders", "order_shipped")
    only_chat = await _sealed(shop, [chat], [Recipient(Channel.EMAIL, "bob@example.com")])
    assert only_chat[Channel.EMAIL]["holder"] == preferences.holder_for(
        shop.vault, email="bob@example.com")
    account = await _sealed(shop, ["user:4"], [Recipient(Channel.EMAIL, "cy@example.com")])
    assert account[Channel.EMAIL]["holder"] == "user:4"


async def test_each_channel_is_checked_again_against_the_holders_choices(shop):
    chat = preferences.holder_for(shop.vault, chat_key="web:abcdefgh")
    email = preferences.holder_for(shop.vault, email="ann@example.com")
    async with shop.transaction() as session:
        await preferences.agree_to_sms(session=session, holder=chat, phone_e164=PHONE,
                                       vault=shop.vault, actor=SYSTEM, at=now())
    sealed = await _sealed(shop, [chat, email], [
        Recipient(Channel.EMAIL, "ann@example.com"), Recipient(Channel.SMS, PHONE),
        Recipient(Channel.PUSH, "12")])
    assert set(sealed) == {Channel.EMAIL, Channel.SMS, Channel.PUSH}

    async def wanted() -> dict[Channel, bool]:
        async with shop.sessions() as session:
            return {channel: await notifications.still_wanted(
                session=session, content=content, channel=channel)
                for channel, content in sealed.items()}

    assert await wanted() == dict.fromkeys(sealed, True)
    async with shop.transaction() as session:   # one holder's off is enough
        for channel in (Channel.EMAIL, Channel.PUSH):
            await preferences.set_choice(session=session, holder=email,
                                         category=Category.ORDERS, channel=channel, on=False,
                                         actor=SYSTEM)
        await preferences.agree_to_sms(session=session, holder=chat, phone_e164="+33698765432",
                                       vault=shop.vault, actor=SYSTEM, at=now())
    assert await wanted() == dict.fromkeys(sealed, False)  # SMS: another number agreed now
    async with shop.transaction() as session:
        await preferences.agree_to_sms(session=session, holder=chat, phone_e164=None,
                                       vault=shop.vault, actor=SYSTEM, at=now())
    async with shop.sessions() as session:
        assert not await notifications.still_wanted(session=session,
                                                    content=sealed[Channel.SMS],
                                                    channel=Channel.SMS)
        # a message sealed before holders were sealed with it goes as it was decided then
        assert await notifications.still_wanted(session=session,
                                                content={"to": PHONE, "text": "x"},
                                                channel=Channel.SMS)
