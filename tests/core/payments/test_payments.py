"""Payment rules inside: events applied once and in any order, holds, refunds, shipping."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.audit.actor import Actor
from core.errors import Conflict
from core.orders import service as orders
from core.orders.states import OrderStatus
from core.payments import service as payments
from core.payments.gateway import EventKind, GatewayEvent
from core.payments.models import Payment, PaymentStatus
from core.payments.offline import OfflineGateway
from tests import factories
from tests.conftest import SECRET

SYSTEM = Actor.system("test")


async def _paid_order(shop, capture: bool = True):
    gateway = OfflineGateway(SECRET, "http://shop.test")
    async with shop.transaction() as session:
        mug = await factories.product(session, price=1250, stock=5)
        cart = await factories.guest_cart(session)
        from core.carts import service as carts
        await carts.add_item(session=session, cart=cart, product_id=mug.id, quantity=2,
                             actor=SYSTEM)
        order = await orders.place_order(session=session, cart=cart, actor=SYSTEM,
                                         reservation_minutes=30)
        payment = await payments.start(session=session, order=order, gateway=gateway,
                                       capture=capture, actor=SYSTEM)
        event = gateway.event(payment.reference, payment, "pay", capture)
        await payments.apply_event(session=session, event=event, gateway=gateway,
                                   vault=shop.vault)
        return order.id, payment.id, gateway, mug.id


async def test_partial_then_full_refund_never_goes_beyond_what_was_taken(shop):
    order_id, payment_id, gateway, _ = await _paid_order(shop)
    gateways = {"offline": gateway}
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        await payments.refund(session=session, order=order, amount_minor=500,
                              gateways=gateways, actor=SYSTEM, reason="chipped")
        assert order.status is OrderStatus.PARTIALLY_REFUNDED
        with pytest.raises(Conflict, match="at most €20.00"):
            await payments.refund(session=session, order=order, amount_minor=2001,
                                  gateways=gateways, actor=SYSTEM, reason="too much")
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        await payments.refund(session=session, order=order, amount_minor=2000,
                              gateways=gateways, actor=SYSTEM, reason="returned")
        payment = await session.get(Payment, payment_id)
        assert order.status is OrderStatus.REFUNDED and order.refunded_minor == 2500
        assert payment.status is PaymentStatus.REFUNDED and payment.refunded_minor == 2500


async def test_an_authorized_order_is_captured_when_it_ships(shop):
    order_id, payment_id, gateway, _ = await _paid_order(shop, capture=False)
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        assert order.status is OrderStatus.AUTHORIZED
        with pytest.raises(Conflict):  # not around the capture
            await orders.ship(session=session, order=order, actor=SYSTEM, carrier="DHL",
                              tracking_number="1")
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        await payments.ship(session=session, order=order, gateways={"offline": gateway},
                            actor=SYSTEM, carrier="DHL", tracking_number="JD01")
        payment = await session.get(Payment, payment_id)
        assert order.status is OrderStatus.SHIPPED
        assert payment.status is PaymentStatus.CAPTURED and payment.captured_minor == 2500


async def test_a_released_hold_is_not_booked_as_money_taken(shop):
    order_id, payment_id, gateway, _ = await _paid_order(shop, capture=False)
    async with shop.transaction() as session:
        payment = await session.get(Payment, payment_id)
        released = GatewayEvent("offline", "evt-release", EventKind.REFUNDED, payment.reference,
                                2500, "EUR")
        assert await payments.apply_event(session=session, event=released, gateway=gateway,
                                          vault=shop.vault) == "released"
        order = await orders.get(session=session, order_id=order_id)
        assert payment.status is PaymentStatus.VOIDED and payment.captured_minor == 0
        assert order.status is OrderStatus.CANCELLED and order.refunded_minor == 0


async def test_the_same_event_twice_is_applied_once(shop):
    order_id, payment_id, gateway, _ = await _paid_order(shop)
    async with shop.transaction() as session:
        payment = await session.get(Payment, payment_id)
        again = gateway.event(payment.reference, payment, "pay", True)
        assert await payments.apply_event(session=session, event=again, gateway=gateway,
                                          vault=shop.vault) == "duplicate"
        audits = await session.scalars(select(Payment))
        assert len(list(audits)) == 1
