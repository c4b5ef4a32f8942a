"""Each sweeper step stands alone: a purge or a nudge that raises is logged (without its
message) and neither undoes the unpaid-order expiry nor stops the other steps, and the
worker's heartbeat goes on; the big purges go in bounded chunks."""

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import func, select, update

from bot import sweeper
from core.audit.actor import Actor
from core.carts import service as carts
from core.chats import service as chats
from core.clock import now
from core.inventory import service as inventory
from core.inventory.models import Reservation
from core.notifications import preferences, push
from core.notifications.models import NotificationDelivery, NotificationLinkUse
from core.nudges import back_in_stock, staff_alerts
from core.orders import service as orders
from core.orders.states import OrderStatus
from core.outbox.models import OutboxMessage
from tests import factories
from tests.factories import SHOPPER

ADMIN = Actor.system("test")
LEAK = "ann@example.com"   # in the failing step's message: never in the log


async def _boom(**_kwargs):
    raise RuntimeError(f"could not purge the row of {LEAK}")


async def _unpaid_order_past_its_window(shop) -> int:
    async with shop.transaction() as session:
        lamp = await factories.product(session, name="Lamp", stock=1)
        cart = await factories.guest_cart(session)
        await carts.add_item(session=session, cart=cart, product_id=lamp.id, actor=SHOPPER)
        order = await orders.place_order(session=session, cart=cart, actor=SHOPPER,
                                         reservation_minutes=30)
        await session.execute(update(Reservation).values(expires_at=now() - timedelta(1)))
    return order.id


async def _old_rows(shop, deliveries: int = 1) -> None:
    old = now() - timedelta(days=91)
    async with shop.transaction() as session:
        session.add_all(NotificationDelivery(key=f"k{n}", kind="order_placed",
                                             subject="order:1", channel="chat", created_at=old)
                        for n in range(deliveries))
        session.add(NotificationLinkUse(nonce="spent", expires_at=now() - timedelta(1)))


async def _stop(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _count(shop, model) -> int:
    async with shop.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_a_purge_that_raises_stops_neither_the_expiry_nor_the_other_purges(
        shop, monkeypatch, caplog):
    order_id = await _unpaid_order_past_its_window(shop)
    await _old_rows(shop)
    monkeypatch.setattr(chats, "purge_idle", _boom)   # the first purge
    monkeypatch.setattr(push, "purge_ended", _boom)
    caplog.set_level(logging.INFO, "chatcart.sweeper")
    assert len(await sweeper.expire_once(shop)) == 1
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        assert order.status is OrderStatus.CANCELLED
    assert await _count(shop, NotificationDelivery) == 0
    assert await _count(shop, NotificationLinkUse) == 0
    failed = [r for r in caplog.records if r.getMessage() == "sweeper.step_failed"]
    assert sorted(r.fields["step"] for r in failed) == ["chats.purge_idle", "push.purge_ended"]
    assert {r.fields["error"] for r in failed} == {"RuntimeError"}
    for record in caplog.records:
        assert LEAK not in f"{record.getMessage()} {getattr(record, 'fields', '')}"
        assert record.exc_info is None, "a traceback would print the message"


async def test_a_failing_staff_alerts_step_stops_neither_back_in_stock_nor_the_beat(
        shop, monkeypatch):
    async with shop.transaction() as session:
        mug = (await factories.product(session, name="Speckled mug", stock=0)).id
        await back_in_stock.subscribe(
            session=session, product_id=mug, chat_key="web:ann", user_id=None,
            holder=preferences.holder_for(shop.vault, chat_key="web:ann"), actor=ADMIN)
    async with shop.transaction() as session:
        await inventory.adjust(session=session, product_id=mug, delta=1, reason="count",
                               actor=ADMIN)
    monkeypatch.setattr(staff_alerts, "send_due", _boom)
    assert (await sweeper.nudge_once(shop))["back_in_stock"] == 2   # told, then closed
    async with shop.sessions() as session:
        assert list(await session.scalars(select(OutboxMessage.chat_key))) == ["web:ann"]
    beats: list[int] = []
    task = asyncio.create_task(sweeper.run_forever(shop, 0.01, lambda: beats.append(1)))
    try:
        for _ in range(200):
            if len(beats) >= 2:
                break
            await asyncio.sleep(0.02)
    finally:
        await _stop(task)
    assert len(beats) >= 2, "a failing step must not stop the heartbeat"


async def test_no_beat_while_the_expiry_itself_fails(shop, monkeypatch):
    monkeypatch.setattr(orders, "expire_unpaid", _boom)
    beats: list[int] = []
    task = asyncio.create_task(sweeper.run_forever(shop, 0.01, lambda: beats.append(1)))
    await asyncio.sleep(0.3)
    await _stop(task)
    assert beats == []


async def test_a_big_purge_goes_in_chunks_each_its_own_transaction(shop, monkeypatch):
    await _old_rows(shop, deliveries=7)
    monkeypatch.setattr(sweeper, "PURGE_CHUNK", 3)
    dropped = await sweeper.purge_once(shop)
    assert dropped["notifications.purge_old"] == 7
    assert await _count(shop, NotificationDelivery) == 0
    await _old_rows(shop, deliveries=7)
    monkeypatch.setattr(sweeper, "PURGE_CHUNKS", 2)    # the rest waits for the next sweep
    assert (await sweeper.purge_once(shop))["notifications.purge_old"] == 6
    assert await _count(shop, NotificationDelivery) == 1
