"""A Telegram shopper returns an item with a photo: the photo is fetched through the Bot
API (getFile, then the file) from the double, checked like a catalog image and kept."""

from __future__ import annotations

from sqlalchemy import select

from core.accounts import identities
from core.audit.actor import Actor, Channel
from core.carts import service as carts
from core.catalog.models import Product
from core.orders import service as orders
from core.payments import service as payments
from core.returns import photos
from core.returns.models import ReturnRequest
from tests.e2e.conftest import Platforms
from tests.e2e.test_returns import jpeg

STAFF = Actor.system("test warehouse")


async def sent_order(platforms: Platforms, platform: str, user_id: str, chat_key: str,
                     display_name: str = "Ann Lee") -> str:
    """A paid, shipped order of one blue mug placed from this chat (any platform)."""
    shop = platforms.shop
    gateway = shop.gateways["offline"]
    async with shop.transaction() as session:
        seen = await identities.recognise(session=session, platform=platform,
                                          platform_user_id=user_id, display_name=display_name)
        buyer = Actor(Channel(platform), identity_id=seen.identity_id, label=display_name)
        mug = await session.scalar(select(Product).where(Product.sku == "MUG-BLUE-350"))
        cart = await carts.cart_for(session=session, currency="EUR", session_key=chat_key)
        await carts.add_item(session=session, cart=cart, product_id=mug.id, quantity=1,
                             actor=buyer)
        order = await orders.place_order(session=session, cart=cart, actor=buyer,
                                         reservation_minutes=30, email="ann@example.com")
        order.chat_key = chat_key
        payment = await payments.start(session=session, order=order, gateway=gateway,
                                       capture=True, actor=buyer)
        await payments.apply_event(session=session, event=gateway.event(
            payment.reference, payment, "pay", True), gateway=gateway, vault=shop.vault)
        await payments.ship(session=session, order=order, gateways=shop.gateways, actor=STAFF,
                            carrier="DHL", tracking_number="JJD0002")
        return order.number


async def test_a_telegram_shopper_sends_a_photo_of_the_damaged_mug(platforms: Platforms):
    ann = platforms.telegram_user()
    await ann.say("hi")
    number = await sent_order(platforms, "telegram", "111222333", "telegram:111222333")
    await ann.replies()  # the confirmation and the shipping notice

    await ann.say("I want to return an item")
    await ann.press(number)
    await ann.press("Blue mug")
    await ann.press("1")
    await ann.press("Continue")
    await ann.press("Wrong item")
    (asked,) = await ann.press("Skip")
    assert "is requested" in asked.text and "send up to 3" in asked.text

    (added,) = await ann.send_photo(jpeg("blue"), caption="this is not what I ordered")
    assert "Photo added to return" in added.text and "(1 of 3)" in added.text
    assert platforms.telegram.of("getFile") and platforms.telegram.of("downloadFile")
    (refused,) = await ann.send_photo(b"\x89PNG\r\n\x1a\n broken")
    assert "not a readable image" in refused.text
    (thanks,) = await ann.press("Done")
    assert "as soon as our team has looked at return" in thanks.text

    async with platforms.shop.transaction() as session:
        ret = await session.scalar(select(ReturnRequest))
        assert ret.chat_key == "telegram:111222333" and len(ret.photos) == 1
        (photo,) = ret.photos
        assert photo.content_type == "image/jpeg"
    stored = photos.storage(platforms.shop.settings).read(photo.storage_key)
    assert stored == jpeg("blue")
    assert not (platforms.shop.settings.media_dir / photo.storage_key).exists(), \
        "a shopper's photo is not published under /media"
