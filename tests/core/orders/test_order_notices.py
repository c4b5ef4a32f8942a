"""Order news through the notification service: the chat and the checkout address (and
the number agreed to for SMS) each hear of every update once, however often the gateway
repeats itself."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from core.audit.actor import Actor
from core.carts import service as carts
from core.clock import now
from core.notifications import preferences
from core.notifications.models import NotificationDelivery
from core.orders import notices
from core.orders import service as orders
from core.orders.states import OrderStatus
from core.payments import service as payments
from core.payments.offline import OfflineGateway
from tests import factories
from tests.conftest import SECRET

SYSTEM = Actor.system("test")


async def _paid_twice(shop):
    """A guest's order, paid; the gateway's event delivered twice."""
    gateway = OfflineGateway(SECRET, "http://shop.test")
    async with shop.transaction() as session:
        mug = await factories.product(session, price=1250, stock=5)
        cart = await factories.guest_cart(session)
        await carts.add_item(session=session, cart=cart, product_id=mug.id, quantity=2,
                             actor=SYSTEM)
        order = await orders.place_order(session=session, cart=cart, actor=SYSTEM,
                                         reservation_minutes=30, email="ann@example.com")
        order.chat_key = "web:abcdefgh"
        payment = await payments.start(session=session, order=order, gateway=gateway,
                                       capture=True, actor=SYSTEM)
        event = gateway.event(payment.reference, payment, "pay", True)
    for _ in range(2):
        async with shop.transaction() as session:
            await payments.apply_event(session=session, event=event, gateway=gateway,
                                       vault=shop.vault)
    return order.id, {"offline": gateway}


async def _told(shop) -> Counter[tuple[str, str]]:
    async with shop.sessions() as session:
        rows = await session.execute(select(NotificationDelivery.kind,
                                            NotificationDelivery.channel))
        return Counter((kind, channel) for kind, channel in rows)


async def test_each_update_reaches_the_chat_and_the_checkout_address_once(shop):
    order_id, gateways = await _paid_twice(shop)
    assert await _told(shop) == {("order_confirmed", "chat"): 1, ("order_confirmed", "email"): 1}
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        await orders.advance(session=session, order=order, to=OrderStatus.PROCESSING,
                             actor=SYSTEM)
        for amount in (300, 200):  # two partial refunds are two pieces of news
            await payments.refund(session=session, order=order, amount_minor=amount,
                                  gateways=gateways, actor=SYSTEM, reason="chipped")
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        await payments.ship(session=session, order=order, gateways=gateways, actor=SYSTEM,
                            carrier="DHL", tracking_number="JD1")
        await orders.advance(session=session, order=order, to=OrderStatus.DELIVERED,
                             actor=SYSTEM)
    told = await _told(shop)
    for kind, times in (("order_confirmed", 1), ("order_preparing", 1),
                        ("order_refunded", 2), ("order_shipped", 1), ("order_delivered", 1)):
        assert told[(kind, "chat")] == times and told[(kind, "email")] == times, kind


async def test_a_holder_who_agreed_to_sms_hears_by_sms_once_until_they_withdraw(shop):
    holder = preferences.holder_for(shop.vault, email="ann@example.com")
    async with shop.transaction() as session:
        await preferences.agree_to_sms(session=session, holder=holder,
                                       phone_e164="+33612345678", vault=shop.vault,
                                       actor=SYSTEM, at=now())
    order_id, gateways = await _paid_twice(shop)
    assert (await _told(shop))[("order_confirmed", "sms")] == 1
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        assert notices.holder_of(session, order)[-1] == holder  # the guest email, after the chat
        await orders.advance(session=session, order=order, to=OrderStatus.PROCESSING,
                             actor=SYSTEM)
        await preferences.agree_to_sms(session=session, holder=holder, phone_e164=None,
                                       vault=shop.vault, actor=SYSTEM, at=now())
        await payments.ship(session=session, order=order, gateways=gateways, actor=SYSTEM,
                            carrier="DHL", tracking_number="JD1")
    told = await _told(shop)
    assert told[("order_preparing", "sms")] == 1 and told[("order_shipped", "sms")] == 0
    assert told[("order_shipped", "email")] == 1
