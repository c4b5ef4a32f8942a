import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.clock import now
from core.errors import Conflict, InvalidInput
from core.inventory import service as inventory
from core.inventory.models import Reservation, ReservationStatus, StockAlert
from core.orders.models import Order
from tests import factories
from tests.factories import ADMIN


async def _order_shell(session, number: str) -> Order:
    """A bare pending order row to hang reservations on."""
    order = Order(number=number, channel="web", currency="EUR", subtotal_minor=0,
                  total_minor=0)
    session.add(order)
    await session.flush()
    return order


async def test_reserving_holds_units_and_paying_takes_them_off_the_shelf(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, stock=5)
        order = await _order_shell(session, "CC-AAAAAA")
        await inventory.reserve(session=session, order_id=order.id, product_id=mug.id,
                                quantity=2, expires_at=now() + timedelta(minutes=30))
        stock = await inventory.get(session=session, product_id=mug.id)
        assert (stock.on_hand, stock.reserved, stock.available) == (5, 2, 3)
        assert await inventory.commit_order(session=session, order_id=order.id) == 2
        assert await inventory.commit_order(session=session, order_id=order.id) == 0  # retry
        assert (stock.on_hand, stock.reserved, stock.available) == (3, 0, 3)


async def test_releasing_returns_units_once(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, stock=5)
        order = await _order_shell(session, "CC-BBBBBB")
        await inventory.reserve(session=session, order_id=order.id, product_id=mug.id,
                                quantity=4, expires_at=now())
        assert await inventory.release_order(session=session, order_id=order.id) == 4
        assert await inventory.release_order(session=session, order_id=order.id) == 0
        stock = await inventory.get(session=session, product_id=mug.id)
        assert (stock.on_hand, stock.reserved) == (5, 0)


async def test_reserving_more_than_is_left_says_how_many_remain(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Blue mug", stock=3)
        order = await _order_shell(session, "CC-CCCCCC")
        with pytest.raises(Conflict, match="only 3 of Blue mug left") as caught:
            await inventory.reserve(session=session, order_id=order.id, product_id=mug.id,
                                    quantity=4, expires_at=now(), product_name="Blue mug")
        assert caught.value.details["available"] == 3
        assert await session.scalar(select(func.count(Reservation.id))) == 0


async def test_stock_adjustments_need_a_reason_and_cannot_undercut_reservations(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, stock=5, threshold=0)
        order = await _order_shell(session, "CC-DDDDDD")
        await inventory.reserve(session=session, order_id=order.id, product_id=mug.id,
                                quantity=3, expires_at=now())
        with pytest.raises(InvalidInput, match="reason"):
            await inventory.adjust(session=session, product_id=mug.id, delta=-1, reason=" ",
                                   actor=ADMIN)
        with pytest.raises(InvalidInput, match="below the 3 units reserved"):
            await inventory.adjust(session=session, product_id=mug.id, delta=-3,
                                   reason="breakage", actor=ADMIN)
        item = await inventory.adjust(session=session, product_id=mug.id, delta=-2,
                                      reason="breakage", actor=ADMIN)
        assert (item.on_hand, item.reserved) == (3, 3)
        event = await session.scalar(select(AuditEvent).where(
            AuditEvent.action == "stock.adjusted"))
        assert event.data == {"delta": -2, "reason": "breakage", "on_hand": 3}
        assert event.channel == "cli"


async def test_a_low_stock_alert_opens_at_the_threshold_and_closes_on_restock(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, stock=6, threshold=3)
        assert await inventory.open_alerts(session=session) == []
        await inventory.adjust(session=session, product_id=mug.id, delta=-3, reason="sold",
                               actor=ADMIN)
        await inventory.adjust(session=session, product_id=mug.id, delta=-1, reason="sold",
                               actor=ADMIN)
        alerts = await inventory.open_alerts(session=session)
        assert [(a.product_id, a.available, a.threshold) for a in alerts] == [(mug.id, 2, 3)]
        await inventory.adjust(session=session, product_id=mug.id, delta=10, reason="delivery",
                               actor=ADMIN)
        assert await inventory.open_alerts(session=session) == []
        assert await session.scalar(select(func.count(StockAlert.id))) == 1


async def test_a_new_product_already_low_raises_an_alert(shop):
    async with shop.transaction() as session:
        await factories.product(session, name="Last lamp", stock=1, threshold=2)
        assert len(await inventory.open_alerts(session=session)) == 1


async def test_two_shoppers_racing_for_the_last_mug_one_wins(shop):
    """Many tasks, each in its own transaction, race for 5 units of one product."""
    async with shop.transaction() as session:
        mug = await factories.product(session, stock=5)
        orders = [await _order_shell(session, f"CC-R{n:05}") for n in range(20)]

    async def attempt(order_id: int) -> bool:
        try:
            async with shop.transaction() as session:
                await inventory.reserve(session=session, order_id=order_id, product_id=mug.id,
                                        quantity=1, expires_at=now() + timedelta(minutes=5))
            return True
        except Conflict:
            return False

    results = await asyncio.gather(*(attempt(order.id) for order in orders))
    assert results.count(True) == 5
    async with shop.transaction() as session:
        stock = await inventory.get(session=session, product_id=mug.id)
        assert (stock.on_hand, stock.reserved, stock.available) == (5, 5, 0)
        assert await session.scalar(select(func.count(Reservation.id)).where(
            Reservation.status == ReservationStatus.ACTIVE)) == 5


async def test_units_held_for_unpaid_orders_are_listed_soonest_to_expire_first(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Blue mug", stock=5)
        lamp = await factories.product(session, name="Desk lamp", stock=5)
        later, sooner = (await _order_shell(session, "CC-LATER1"),
                         await _order_shell(session, "CC-SOON11"))
        await inventory.reserve(session=session, order_id=later.id, product_id=mug.id,
                                quantity=2, expires_at=now() + timedelta(minutes=30))
        await inventory.reserve(session=session, order_id=sooner.id, product_id=lamp.id,
                                quantity=1, expires_at=now() + timedelta(minutes=5))
        paid = await _order_shell(session, "CC-PAID111")
        await inventory.reserve(session=session, order_id=paid.id, product_id=lamp.id,
                                quantity=1, expires_at=now() + timedelta(minutes=1))
        await inventory.commit_order(session=session, order_id=paid.id)
        held = await inventory.in_flight(session=session)
        assert [(number, name, r.quantity) for r, number, name in held] == [
            ("CC-SOON11", "Desk lamp", 1), ("CC-LATER1", "Blue mug", 2)]
