"""Refunding some lines: what each is worth, what goes back on the shelf, and no unit twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.carts import service as carts
from core.errors import Conflict, InvalidInput
from core.inventory import service as inventory
from core.orders import service as orders
from core.orders.states import OrderStatus
from core.payments import service as payments
from core.payments.models import Payment, PaymentStatus
from core.payments.offline import OfflineGateway
from tests import factories
from tests.conftest import SECRET
from tests.core.payments.test_payments import SYSTEM


async def _order(shop):
    """Two mugs at 12.50 and a teapot at 45.00, shipping 4.90, tax 20% on goods and
    shipping (14.98): 89.88 in all, paid."""
    gateway = OfflineGateway(SECRET, "http://shop.test")
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Mug", price=1250, stock=5)
        pot = await factories.product(session, name="Teapot", price=4500, stock=1)
        cart = await factories.guest_cart(session)
        await carts.add_item(session=session, cart=cart, product_id=mug.id, quantity=2,
                             actor=SYSTEM)
        await carts.add_item(session=session, cart=cart, product_id=pot.id, quantity=1,
                             actor=SYSTEM)
        order = await orders.place_order(session=session, cart=cart, actor=SYSTEM,
                                         reservation_minutes=30, shipping_minor=490,
                                         tax_minor=1498)
        payment = await payments.start(session=session, order=order, gateway=gateway,
                                       capture=True, actor=SYSTEM)
        await payments.apply_event(session=session, gateway=gateway, vault=shop.vault,
                                   event=gateway.event(payment.reference, payment, "pay", True))
        lines = {line.sku: line.id for line in order.lines}
        return order.id, {"offline": gateway}, lines, mug.sku, pot.sku, mug.id, pot.id


async def _on_hand(session, product_id):
    return (await inventory.get(session=session, product_id=product_id)).on_hand


async def test_a_line_refund_gives_back_its_price_and_tax_share_and_restocks_unshipped_units(
        shop):
    order_id, gateways, lines, mug, pot, mug_id, pot_id = await _order(shop)
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        assert order.total_minor == 8988 and await _on_hand(session, mug_id) == 3
        await payments.refund_lines(session=session, order=order, gateways=gateways,
                                    actor=SYSTEM, reason="changed mind",
                                    quantities={lines[mug]: 1})
        # 12.50 plus 1250/7490 of the 14.98 tax (2.50, rounded down)
        assert order.refunded_minor == 1250 + 1498 * 1250 // 7490 == 1500
        assert order.status is OrderStatus.PARTIALLY_REFUNDED
        assert await _on_hand(session, mug_id) == 4  # never left: back on sale
        with pytest.raises(InvalidInput, match="Only 1 of Mug can still be refunded"):
            await payments.refund_lines(session=session, order=order, gateways=gateways,
                                        actor=SYSTEM, reason="", quantities={lines[mug]: 2})
        with pytest.raises(InvalidInput, match="at least one unit"):
            await payments.refund_lines(session=session, order=order, gateways=gateways,
                                        actor=SYSTEM, reason="", quantities={lines[mug]: 0})
        with pytest.raises(InvalidInput, match="not on order"):
            await payments.refund_lines(session=session, order=order, gateways=gateways,
                                        actor=SYSTEM, reason="", quantities={99999: 1})


async def test_refunding_every_remaining_unit_refunds_the_rest_and_never_restocks_twice(shop):
    order_id, gateways, lines, mug, pot, mug_id, pot_id = await _order(shop)
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        await payments.refund_lines(session=session, order=order, gateways=gateways,
                                    actor=SYSTEM, reason="", quantities={lines[mug]: 1})
        await payments.refund_lines(session=session, order=order, gateways=gateways,
                                    actor=SYSTEM, reason="",
                                    quantities={lines[mug]: 1, lines[pot]: 1})
        assert order.status is OrderStatus.REFUNDED and order.refunded_minor == 8988
        assert await _on_hand(session, mug_id) == 5 and await _on_hand(session, pot_id) == 1
        assert [line.refunded_quantity for line in order.lines] == [2, 1]
        payment = await session.scalar(select(Payment).where(Payment.order_id == order.id))
        assert payment.refunded_minor == 8988
        with pytest.raises(InvalidInput):
            await payments.refund_lines(session=session, order=order, gateways=gateways,
                                        actor=SYSTEM, reason="", quantities={lines[mug]: 1})


async def test_returned_units_go_back_on_the_shelf_only_when_staff_say_so(shop):
    order_id, gateways, lines, mug, pot, mug_id, pot_id = await _order(shop)
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        await payments.ship(session=session, order=order, gateways=gateways, actor=SYSTEM,
                            carrier="DHL", tracking_number="JD1")
        await payments.refund_lines(session=session, order=order, gateways=gateways,
                                    actor=SYSTEM, reason="chipped", quantities={lines[mug]: 1})
        assert await _on_hand(session, mug_id) == 3  # broken: not for sale again
        await payments.refund_lines(session=session, order=order, gateways=gateways,
                                    actor=SYSTEM, reason="unopened", restock=True,
                                    quantities={lines[pot]: 1})
        assert await _on_hand(session, pot_id) == 1
        assert order.status is OrderStatus.PARTIALLY_REFUNDED
        assert order.status_before_refund is OrderStatus.SHIPPED
        events = await orders.events(session=session, order=order)
        refunds = [e.data for e in events if e.action == "payment.refunded"]
        assert refunds[-1]["lines"] == {pot: 1}


async def test_a_refused_gateway_refund_leaves_lines_and_stock_as_they_were(shop):
    order_id, gateways, lines, mug, pot, mug_id, pot_id = await _order(shop)
    with pytest.raises(Conflict):
        async with shop.transaction() as session:
            order = await orders.get(session=session, order_id=order_id)
            await payments.refund_lines(session=session, order=order, gateways={},
                                        actor=SYSTEM, reason="", quantities={lines[mug]: 1})
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        assert [line.refunded_quantity for line in order.lines] == [0, 0]
        assert order.refunded_minor == 0 and await _on_hand(session, mug_id) == 3


async def test_a_line_refund_worth_more_than_is_left_is_refused_for_an_amount_refund(shop):
    order_id, gateways, lines, mug, pot, mug_id, pot_id = await _order(shop)
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        await payments.refund(session=session, order=order, amount_minor=8000,
                              gateways=gateways, actor=SYSTEM, reason="goodwill")
        with pytest.raises(Conflict, match="worth €15.00, but only €9.88 .* refund an amount"):
            await payments.refund_lines(session=session, order=order, gateways=gateways,
                                        actor=SYSTEM, reason="", quantities={lines[mug]: 1})
        await payments.refund_lines(session=session, order=order, gateways=gateways,
                                    actor=SYSTEM, reason="all back",
                                    quantities={lines[mug]: 2, lines[pot]: 1})
        assert order.status is OrderStatus.REFUNDED and order.refunded_minor == 8988
        assert [line.refunded_quantity for line in order.lines] == [2, 1]


async def test_nothing_moves_when_the_order_has_no_money_taken_yet(shop):
    order_id, gateways, lines, mug, pot, mug_id, pot_id = await _order(shop)
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        payment = await session.scalar(select(Payment).where(Payment.order_id == order.id))
        payment.status = PaymentStatus.AUTHORIZED  # a hold, nothing taken
        with pytest.raises(Conflict, match="no payment here that can be refunded"):
            await payments.refund_lines(session=session, order=order, gateways=gateways,
                                        actor=SYSTEM, reason="", quantities={lines[mug]: 1})
        assert await _on_hand(session, mug_id) == 3, "checked before any stock moved"
        assert [line.refunded_quantity for line in order.lines] == [0, 0]


async def test_the_same_refund_form_sent_twice_refunds_once(shop):
    order_id, gateways, lines, mug, pot, mug_id, pot_id = await _order(shop)
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        await payments.refund_lines(session=session, order=order, gateways=gateways,
                                    actor=SYSTEM, reason="", quantities={lines[mug]: 1},
                                    seen_refunded_minor=0)
        with pytest.raises(Conflict, match="changed since the page was opened"):
            await payments.refund_lines(session=session, order=order, gateways=gateways,
                                        actor=SYSTEM, reason="", quantities={lines[mug]: 1},
                                        seen_refunded_minor=0)
        with pytest.raises(Conflict, match="changed since the page was opened"):
            await payments.refund(session=session, order=order, amount_minor=100,
                                  gateways=gateways, actor=SYSTEM, reason="",
                                  seen_refunded_minor=0)
        assert order.refunded_minor == 1500 and await _on_hand(session, mug_id) == 4


async def test_cancelling_after_a_line_refund_restocks_only_what_was_still_held(shop):
    order_id, gateways, lines, mug, pot, mug_id, pot_id = await _order(shop)
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        await payments.refund_lines(session=session, order=order, gateways=gateways,
                                    actor=SYSTEM, reason="", quantities={lines[mug]: 1})
        await payments.cancel_order(session=session, order=order, gateways=gateways,
                                    actor=SYSTEM, reason="changed mind")
        assert order.status is OrderStatus.REFUNDED and order.refunded_minor == 8988
        assert await _on_hand(session, mug_id) == 5 and await _on_hand(session, pot_id) == 1
        events = await orders.events(session=session, order=order)
        first = next(e.data for e in events if e.action == "payment.refunded")
        assert first["restocked"] == {mug: 1}
