"""Cart reminders: an account's cart by mail, a guest's in its chat, only with a yes, once
per episode (until the cart changes)."""

from datetime import timedelta

from sqlalchemy import select, update

from core.audit.actor import Actor
from core.carts import service as carts
from core.carts.models import Cart
from core.clock import now
from core.notifications import preferences
from core.notifications.events import Channel
from core.notifications.kinds import Category
from core.nudges import cart_reminders
from core.nudges.models import CartReminder
from core.outbox.models import OutboxMessage
from tests import factories

ADMIN = Actor.system("test")
DAY = timedelta(hours=24)


async def _cart(shop, product_id: int, *, user_id=None, key=None) -> int:
    async with shop.transaction() as session:
        cart = await carts.cart_for(session=session, currency="EUR", user_id=user_id,
                                    session_key=key)
        await carts.add_item(session=session, cart=cart, product_id=product_id, quantity=1,
                             actor=ADMIN)
        return cart.id


async def _agree(shop, holder: str, channel: Channel) -> None:
    async with shop.transaction() as session:
        await preferences.set_choice(session=session, holder=holder, channel=channel,
                                     category=Category.CART_REMINDERS, on=True, actor=ADMIN)


async def _age(shop) -> None:
    async with shop.transaction() as session:
        await session.execute(update(Cart).values(updated_at=now() - DAY - timedelta(minutes=1)))


async def _remind(shop) -> int:
    async with shop.transaction() as session:
        return await cart_reminders.remind_due(session=session, older_than=DAY,
                                               vault=shop.vault, chat_url="https://s.example/chat")


async def _queued(shop) -> list[str]:
    async with shop.sessions() as session:
        return list(await session.scalars(select(OutboxMessage.chat_key)
                                          .order_by(OutboxMessage.id)))


async def test_an_account_that_agreed_is_mailed_once_and_a_guest_who_did_not_hears_nothing(shop):
    async with shop.transaction() as session:
        mug = (await factories.product(session, stock=9)).id
        ann = await factories.user(session, "ann@example.com")
        ann_id = ann.id
    await _cart(shop, mug, user_id=ann_id)
    await _cart(shop, mug, key="web:bob")
    await _agree(shop, f"user:{ann_id}", Channel.EMAIL)
    assert await _remind(shop) == 0, "not a day yet"
    await _age(shop)
    assert await _remind(shop) == 1
    assert await _remind(shop) == 0
    (mail,) = await _queued(shop)
    assert mail.startswith("email:notice-")


async def test_a_guest_who_agreed_is_reminded_in_the_chat_again_only_after_a_change(shop):
    async with shop.transaction() as session:
        mug = (await factories.product(session, stock=9)).id
    await _cart(shop, mug, key="web:cy")
    await _agree(shop, preferences.holder_for(shop.vault, chat_key="web:cy"), Channel.CHAT)
    await _age(shop)
    assert await _remind(shop) == 1
    assert await _remind(shop) == 0, "the same episode"
    await _cart(shop, mug, key="web:cy")   # one more: a new episode
    await _age(shop)
    assert await _remind(shop) == 1
    assert await _queued(shop) == ["web:cy", "web:cy"]


async def test_an_emptied_cart_gets_nothing(shop):
    async with shop.transaction() as session:
        mug = (await factories.product(session, stock=9)).id
    cart_id = await _cart(shop, mug, key="web:di")
    await _agree(shop, preferences.holder_for(shop.vault, chat_key="web:di"), Channel.CHAT)
    async with shop.transaction() as session:
        await carts.clear(session=session, cart=await session.get(Cart, cart_id))
    await _age(shop)
    assert await _remind(shop) == 0 and await _queued(shop) == []


async def test_quiet_hours_leave_a_due_reminder_unqueued_and_unmarked_until_they_end(
        shop, monkeypatch):
    """Held by quiet hours, a reminder is not queued (a purchase meanwhile means none);
    a cart whose holder never said yes is looked at and marked as before, so it does not
    come back on every sweep."""
    async with shop.transaction() as session:
        mug = (await factories.product(session, stock=9)).id
    for key in ("web:dee", "web:eve"):
        await _cart(shop, mug, key=key)
        async with shop.transaction() as session:   # always quiet: 00:00 to 23:59
            await preferences.set_quiet_hours(
                session=session, holder=preferences.holder_for(shop.vault, chat_key=key),
                quiet_from=0, quiet_until=1439, time_zone="UTC", actor=ADMIN)
    await _agree(shop, preferences.holder_for(shop.vault, chat_key="web:dee"), Channel.CHAT)
    await _age(shop)
    midday = (now() + DAY).replace(hour=12, minute=0)
    monkeypatch.setattr(cart_reminders, "now", lambda: midday)
    assert await _remind(shop) == 0 and await _queued(shop) == []
    async with shop.sessions() as session:
        marked = set(await session.scalars(select(CartReminder.cart_id)))
        eve = await session.scalar(select(Cart.id).where(Cart.session_key == "web:eve"))
    assert marked == {eve}, "only the cart of the holder who never said yes"
    monkeypatch.setattr(cart_reminders, "now",
                        lambda: midday.replace(hour=23, minute=59, second=30))
    assert await _remind(shop) == 1   # the quiet hours are over: the next sweep reminds
    assert await _queued(shop) == ["web:dee"]
