"""A running server cancels unpaid orders whose payment window closed and frees the stock."""

import asyncio
from datetime import timedelta

from sqlalchemy import update

from bot.server import create_app
from core.carts import service as carts
from core.clock import now
from core.inventory import service as inventory
from core.inventory.models import Reservation
from core.orders import service as orders
from core.orders.states import OrderStatus
from tests import factories
from tests.factories import SHOPPER


async def test_the_server_releases_stock_of_orders_left_unpaid(shop, settings):
    async with shop.transaction() as session:
        lamp = await factories.product(session, name="Lamp", stock=1)
        cart = await factories.guest_cart(session)
        await carts.add_item(session=session, cart=cart, product_id=lamp.id, actor=SHOPPER)
        order = await orders.place_order(session=session, cart=cart, actor=SHOPPER,
                                         reservation_minutes=30)
        await session.execute(update(Reservation).values(expires_at=now() - timedelta(1)))
    app = create_app(settings, shop, sweep_seconds=0.05)
    async with app.router.lifespan_context(app):
        for _ in range(100):
            async with shop.transaction() as session:
                current = await orders.get(session=session, order_id=order.id)
                await session.refresh(current)
                if current.status is OrderStatus.CANCELLED:
                    break
            await asyncio.sleep(0.05)
    async with shop.transaction() as session:
        assert (await orders.get(session=session, order_id=order.id)).status \
            is OrderStatus.CANCELLED
        assert (await inventory.get(session=session, product_id=lamp.id)).available == 1
        events = await orders.events(session=session, order=order)
        assert events[-1].data["reason"] == "payment_expired"
        assert events[-1].actor_label == "reservation expiry"
