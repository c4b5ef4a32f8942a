"""Back in stock: one subscription per shopper and product, a restock recorded on any stock
path that goes from none to some, and each waiting shopper told once, in batches; a restock
whose batch keeps failing never holds up the ones after it."""

import logging

from sqlalchemy import func, select, update

from core.audit.actor import Actor
from core.inventory import service as inventory
from core.notifications import preferences
from core.notifications import service as notifications
from core.notifications.events import Channel
from core.notifications.kinds import Category
from core.notifications.models import NotificationDelivery
from core.nudges import back_in_stock
from core.nudges.models import BackInStockSubscription, Restock
from core.outbox.models import OutboxMessage
from tests import factories

ADMIN = Actor.system("test")
URL = "https://shop.example/chat"


async def _sold_out(shop) -> int:
    async with shop.transaction() as session:
        return (await factories.product(session, name="Speckled mug", stock=0)).id


async def _ask(shop, product_id: int, chat: str) -> bool:
    async with shop.transaction() as session:
        return await back_in_stock.subscribe(
            session=session, product_id=product_id, chat_key=chat, user_id=None,
            holder=preferences.holder_for(shop.vault, chat_key=chat), actor=ADMIN)


async def _stock(shop, product_id: int, delta: int) -> None:
    async with shop.transaction() as session:
        await inventory.adjust(session=session, product_id=product_id, delta=delta,
                               reason="count", actor=ADMIN)


async def _round(shop, batch: int = back_in_stock.BATCH) -> int:
    async with shop.transaction() as session:
        return await back_in_stock.tell_waiting(session=session, chat_url=URL, batch=batch)


async def _chats(shop) -> list[str]:
    async with shop.sessions() as session:
        return list(await session.scalars(select(OutboxMessage.chat_key)
                                          .order_by(OutboxMessage.id)))


async def test_pressing_twice_is_one_subscription_and_asking_after_being_told_is_new(shop):
    mug = await _sold_out(shop)
    assert await _ask(shop, mug, "web:ann") is True
    assert await _ask(shop, mug, "web:ann") is False
    await _stock(shop, mug, 2)
    while await _round(shop):
        pass
    assert await _chats(shop) == ["web:ann"]
    await _stock(shop, mug, -2)
    assert await _ask(shop, mug, "web:ann") is True, "told once: she may ask again"
    await _stock(shop, mug, 1)
    while await _round(shop):
        pass
    assert await _chats(shop) == ["web:ann", "web:ann"]


async def test_a_restock_nobody_waits_for_or_one_that_stays_above_zero_records_nothing(shop):
    mug = await _sold_out(shop)
    await _stock(shop, mug, 3)        # nobody asked
    await _ask(shop, mug, "web:ann")
    await _stock(shop, mug, 2)        # 3 -> 5 is not a restock
    async with shop.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Restock)) == 0


async def test_an_import_setting_stock_is_a_restock_too(shop):
    mug = await _sold_out(shop)
    await _ask(shop, mug, "web:ann")
    async with shop.transaction() as session:
        await inventory.set_on_hand(session=session, product_id=mug, on_hand=4,
                                    reason="import", actor=ADMIN)
    async with shop.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Restock)) == 1


async def test_a_long_list_goes_in_small_batches_and_a_replay_tells_nobody_twice(shop):
    mug = await _sold_out(shop)
    for n in range(5):
        await _ask(shop, mug, f"web:fan{n}")
    await _stock(shop, mug, 1)
    assert [await _round(shop, batch=2) for _ in range(4)] == [2, 2, 1, 1]  # the last closes
    assert await _round(shop, batch=2) == 0
    assert sorted(await _chats(shop)) == [f"web:fan{n}" for n in range(5)]
    async with shop.transaction() as session:  # the same restock replayed: all claimed
        restock = await session.scalar(select(Restock))
        restock.done_at = None
        await session.execute(BackInStockSubscription.__table__.update()
                              .values(fulfilled_at=None))
    while await _round(shop):
        pass
    assert len(await _chats(shop)) == 5
    async with shop.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(NotificationDelivery)) == 5


async def test_a_shopper_who_turned_back_in_stock_off_is_not_told(shop):
    mug = await _sold_out(shop)
    await _ask(shop, mug, "web:ann")
    await _ask(shop, mug, "web:bob")
    async with shop.transaction() as session:
        await preferences.set_choice(
            session=session, holder=preferences.holder_for(shop.vault, chat_key="web:bob"),
            category=Category.BACK_IN_STOCK, channel=Channel.CHAT, on=False, actor=ADMIN)
    await _stock(shop, mug, 1)
    while await _round(shop):
        pass
    assert await _chats(shop) == ["web:ann"]


async def test_sold_out_again_before_the_round_they_keep_waiting(shop):
    mug = await _sold_out(shop)
    await _ask(shop, mug, "web:ann")
    await _stock(shop, mug, 1)
    await _stock(shop, mug, -1)
    while await _round(shop):
        pass
    assert await _chats(shop) == []
    await _stock(shop, mug, 1)
    while await _round(shop):
        pass
    assert await _chats(shop) == ["web:ann"]


async def test_a_restock_whose_batch_keeps_failing_is_given_up_and_the_next_one_is_told(
        shop, monkeypatch, caplog):
    mug = await _sold_out(shop)
    async with shop.transaction() as session:
        vase = (await factories.product(session, name="Tall vase", stock=0)).id
    real = notifications.render

    def render(kind, context, locale=None):
        if context.get("name") == "Speckled mug":
            raise ValueError("the template cannot render this product")
        return real(kind, context, locale)

    monkeypatch.setattr(notifications, "render", render)
    await _ask(shop, mug, "web:ann")
    await _ask(shop, vase, "web:bob")
    await _stock(shop, mug, 1)    # the older restock: its batch raises
    await _stock(shop, vase, 1)
    caplog.set_level(logging.WARNING, "chatcart.nudges")
    for attempt in range(1, back_in_stock.GIVE_UP + 1):
        while await _round(shop):
            pass
        assert await _chats(shop) == ["web:bob"], "the vase is told the first time round"
        async with shop.transaction() as session:
            failing = await session.scalar(select(Restock).where(Restock.product_id == mug))
            assert failing.attempts == attempt
            assert (failing.done_at is None) is (attempt < back_in_stock.GIVE_UP)
            await session.execute(update(Restock).values(retry_at=None))  # time passes
    assert await _round(shop) == 0, "given up: no more tries"
    gave_up = [r.getMessage() for r in caplog.records if "back_in_stock.gave_up" in r.getMessage()]
    assert len(gave_up) == 1 and "ValueError" in gave_up[0]
    assert "web:ann" not in caplog.text
    async with shop.sessions() as session:
        ann = await session.scalar(select(BackInStockSubscription)
                                   .where(BackInStockSubscription.product_id == mug))
        assert ann.fulfilled_at is None, "still waiting: the next restock tells her"
        assert await session.scalar(select(func.count()).select_from(NotificationDelivery)
                                    .where(NotificationDelivery.subject == f"product:{mug}")) == 0
