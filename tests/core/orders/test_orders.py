from datetime import timedelta

import pytest

from core.carts import service as carts
from core.catalog import service as catalog
from core.clock import now
from core.errors import Conflict, InvalidInput, NotFound
from core.inventory import service as inventory
from core.orders import service as orders
from core.orders.errors import OrderError
from core.orders.numbers import parse_number
from core.orders.states import OrderStatus
from tests import factories
from tests.factories import ADMIN, SHOPPER


async def cart_with(session, *items):
    cart = await factories.guest_cart(session)
    for product, quantity in items:
        await carts.add_item(session=session, cart=cart, product_id=product.id,
                             quantity=quantity, actor=SHOPPER)
    return cart


async def placed(session, *items, minutes: int = 30):
    cart = await cart_with(session, *items)
    return await orders.place_order(session=session, cart=cart, actor=SHOPPER,
                                    reservation_minutes=minutes, email="ann@example.com")


async def test_placing_an_order_snapshots_lines_holds_stock_and_empties_the_cart(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Blue mug", price=1250, stock=5)
        lamp = await factories.product(session, name="Desk lamp", price=7900, stock=2)
        cart = await cart_with(session, (mug, 2), (lamp, 1))
        order = await orders.place_order(session=session, cart=cart, actor=SHOPPER,
                                         reservation_minutes=30, shipping_minor=495)
        assert order.status is OrderStatus.PENDING_PAYMENT
        assert parse_number(order.number) == order.number
        assert [(line.name, line.quantity, line.unit_price_minor) for line in order.lines] == [
            ("Blue mug", 2, 1250), ("Desk lamp", 1, 7900)]
        assert (order.subtotal_minor, order.total_minor) == (10400, 10895)
        assert order.payment_due_at > now() + timedelta(minutes=29)
        assert (await carts.view(session=session, cart=cart)).is_empty
        assert (await inventory.get(session=session, product_id=mug.id)).available == 3
        # Later catalog edits do not rewrite history.
        await catalog.update_product(session=session, actor=ADMIN, product_id=mug.id,
                                     name="Renamed mug", price_minor=99)
        await session.refresh(order)
        assert order.lines[0].name == "Blue mug" and order.lines[0].unit_price_minor == 1250


async def test_an_empty_cart_or_a_stale_total_places_nothing(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, price=1250)
        with pytest.raises(InvalidInput, match="empty"):
            await orders.place_order(session=session, cart=await factories.guest_cart(session),
                                     actor=SHOPPER, reservation_minutes=30)
        cart = await cart_with(session, (mug, 1))
        await catalog.update_product(session=session, actor=ADMIN, product_id=mug.id,
                                     price_minor=1500)
        with pytest.raises(Conflict) as caught:
            await orders.place_order(session=session, cart=cart, actor=SHOPPER,
                                     reservation_minutes=30, expected_total_minor=1250)
        assert caught.value.code is OrderError.PRICES_CHANGED
        order = await orders.place_order(session=session, cart=cart, actor=SHOPPER,
                                         reservation_minutes=30, expected_total_minor=1500)
        assert order.total_minor == 1500


async def test_a_sold_out_line_fails_the_whole_order_and_keeps_the_cart(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Blue mug", stock=1)
        lamp = await factories.product(session, name="Lamp", stock=5)
        cart = await cart_with(session, (mug, 1), (lamp, 1))
        other = await cart_with(session, (mug, 1))
        await orders.place_order(session=session, cart=other, actor=SHOPPER,
                                 reservation_minutes=30)
        with pytest.raises(Conflict, match="Blue mug is sold out"):
            await orders.place_order(session=session, cart=cart, actor=SHOPPER,
                                     reservation_minutes=30)
        assert (await carts.view(session=session, cart=cart)).item_count == 2


async def test_payment_commits_stock_and_a_repeated_payment_event_changes_nothing(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, stock=5)
        order = await placed(session, (mug, 2))
        await orders.mark_paid(session=session, order=order, actor=ADMIN, reference="pi_1")
        await orders.mark_paid(session=session, order=order, actor=ADMIN, reference="pi_1")
        stock = await inventory.get(session=session, product_id=mug.id)
        assert (stock.on_hand, stock.reserved) == (3, 0)
        changes = [e for e in await orders.events(session=session, order=order)
                   if e.action == "order.status_changed"]
        assert [(e.data["from"], e.data["to"]) for e in changes] == [("pending_payment", "paid")]


async def test_an_order_goes_from_payment_to_the_doorstep(shop):
    async with shop.transaction() as session:
        order = await placed(session, (await factories.product(session), 1))
        await orders.mark_authorized(session=session, order=order, actor=ADMIN)
        await orders.mark_paid(session=session, order=order, actor=ADMIN)  # captured
        await orders.transition(session=session, order=order, to=OrderStatus.PROCESSING,
                                actor=ADMIN)
        await orders.ship(session=session, order=order, actor=ADMIN, carrier="DHL",
                          tracking_number="JD0123")
        await orders.transition(session=session, order=order, to=OrderStatus.DELIVERED,
                                actor=ADMIN)
        events = await orders.events(session=session, order=order)
        assert [e.data.get("to") for e in events] == [
            None, "authorized", "paid", "processing", "shipped", "delivered"]
        assert events[4].data["tracking_number"] == "JD0123"
        assert events[0].action == "order.placed" and events[0].channel == "web"


ALL = list(OrderStatus)
LEGAL = {
    (OrderStatus.PENDING_PAYMENT, OrderStatus.AUTHORIZED),
    (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID),
    (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED),
    (OrderStatus.AUTHORIZED, OrderStatus.PAID),
    (OrderStatus.AUTHORIZED, OrderStatus.CANCELLED),
    (OrderStatus.PAID, OrderStatus.PROCESSING),
    (OrderStatus.PAID, OrderStatus.SHIPPED),
    (OrderStatus.PAID, OrderStatus.CANCELLED),
    (OrderStatus.PAID, OrderStatus.REFUNDED),
    (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED),
    (OrderStatus.PROCESSING, OrderStatus.SHIPPED),
    (OrderStatus.PROCESSING, OrderStatus.CANCELLED),
    (OrderStatus.PROCESSING, OrderStatus.REFUNDED),
    (OrderStatus.PROCESSING, OrderStatus.PARTIALLY_REFUNDED),
    (OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    (OrderStatus.SHIPPED, OrderStatus.REFUNDED),
    (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_REFUNDED),
    (OrderStatus.DELIVERED, OrderStatus.REFUNDED),
    (OrderStatus.DELIVERED, OrderStatus.PARTIALLY_REFUNDED),
    (OrderStatus.PARTIALLY_REFUNDED, OrderStatus.PARTIALLY_REFUNDED),
    (OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED),
}


@pytest.mark.parametrize("current", ALL)
def test_the_state_machine_allows_exactly_the_listed_moves(current):
    from core.orders import states

    for target in ALL:
        if (current, target) in LEGAL:
            states.check(current, target)
        else:
            with pytest.raises(Conflict) as caught:
                states.check(current, target, number="CC-ABCDEF")
            assert caught.value.code is OrderError.ILLEGAL_TRANSITION
            assert caught.value.message.startswith("Order CC-ABCDEF is ")


async def test_an_illegal_move_is_refused_with_the_reason_and_changes_nothing(shop):
    async with shop.transaction() as session:
        order = await placed(session, (await factories.product(session), 1))
        with pytest.raises(Conflict) as caught:
            await orders.ship(session=session, order=order, actor=ADMIN, carrier="DHL",
                              tracking_number="1")
        assert caught.value.message == (
            f"Order {order.number} is awaiting payment and cannot become shipped.")
        assert order.status is OrderStatus.PENDING_PAYMENT
        await orders.cancel(session=session, order=order, actor=ADMIN, reason="changed mind")
        with pytest.raises(Conflict, match="is cancelled and cannot become paid"):
            await orders.transition(session=session, order=order, to=OrderStatus.PAID,
                                    actor=ADMIN)


async def test_cancelling_gives_stock_back_whether_or_not_it_was_paid(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, stock=5)
        unpaid = await placed(session, (mug, 2))
        paid = await placed(session, (mug, 1))
        await orders.mark_paid(session=session, order=paid, actor=ADMIN)
        assert (await inventory.get(session=session, product_id=mug.id)).available == 2
        await orders.cancel(session=session, order=unpaid, actor=ADMIN, reason="shopper asked")
        await orders.cancel(session=session, order=paid, actor=ADMIN, reason="shopper asked")
        stock = await inventory.get(session=session, product_id=mug.id)
        assert (stock.on_hand, stock.reserved) == (5, 0)


async def test_unpaid_orders_expire_and_their_stock_returns(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, stock=3)
        late = await placed(session, (mug, 2), minutes=1)
        on_time = await placed(session, (mug, 1), minutes=60)
    async with shop.transaction() as session:
        expired = await orders.expire_unpaid(session=session, at=now() + timedelta(minutes=2))
        assert [order.number for order in expired] == [late.number]
    async with shop.transaction() as session:
        assert (await orders.get(session=session, order_id=late.id)).status \
            is OrderStatus.CANCELLED
        assert (await orders.get(session=session, order_id=on_time.id)).status \
            is OrderStatus.PENDING_PAYMENT
        assert (await inventory.get(session=session, product_id=mug.id)).available == 2
        again = await orders.expire_unpaid(session=session, at=now() + timedelta(minutes=2))
        assert again == []


async def test_refunds_add_up_to_the_total_and_no_further(shop):
    async with shop.transaction() as session:
        order = await placed(session, (await factories.product(session, price=1000), 3))
        await orders.mark_paid(session=session, order=order, actor=ADMIN)
        await orders.transition(session=session, order=order, to=OrderStatus.PROCESSING,
                                actor=ADMIN)
        with pytest.raises(InvalidInput, match="more than zero"):
            await orders.record_refund(session=session, order=order, amount_minor=0,
                                       actor=ADMIN)
        await orders.record_refund(session=session, order=order, amount_minor=1000,
                                   actor=ADMIN, reason="one mug broken")
        assert order.status is OrderStatus.PARTIALLY_REFUNDED
        # Partly refunded during preparation, the order still ships...
        await orders.ship(session=session, order=order, actor=ADMIN, carrier="UPS",
                          tracking_number="1Z")
        with pytest.raises(InvalidInput, match="At most €20.00"):
            await orders.record_refund(session=session, order=order, amount_minor=2001,
                                       actor=ADMIN)
        await orders.record_refund(session=session, order=order, amount_minor=2000,
                                   actor=ADMIN)
        assert order.status is OrderStatus.REFUNDED and order.refunded_minor == 3000


async def test_a_partial_refund_after_delivery_cannot_send_the_order_back(shop):
    async with shop.transaction() as session:
        order = await placed(session, (await factories.product(session, price=1000), 2))
        await orders.mark_paid(session=session, order=order, actor=ADMIN)
        await orders.ship(session=session, order=order, actor=ADMIN, carrier="UPS",
                          tracking_number="1Z")
        await orders.transition(session=session, order=order, to=OrderStatus.DELIVERED,
                                actor=ADMIN)
        await orders.record_refund(session=session, order=order, amount_minor=500, actor=ADMIN)
        with pytest.raises(Conflict):
            await orders.transition(session=session, order=order, to=OrderStatus.PROCESSING,
                                    actor=ADMIN)


async def test_shoppers_see_their_own_orders_newest_first(shop):
    async with shop.transaction() as session:
        ann = await factories.user(session)
        mug = await factories.product(session, stock=50)
        numbers = []
        for _ in range(3):
            cart = await carts.cart_for(session=session, currency="EUR", user_id=ann.id)
            await carts.add_item(session=session, cart=cart, product_id=mug.id, actor=SHOPPER)
            order = await orders.place_order(session=session, cart=cart, actor=SHOPPER,
                                             reservation_minutes=30)
            numbers.append(order.number)
        strangers = await placed(session, (mug, 1))
        history = await orders.history(session=session, user_id=ann.id)
        assert [order.number for order in history] == list(reversed(numbers))
        found = await orders.find_by_number(session=session, text=numbers[0].lower(),
                                            user_id=ann.id)
        assert found.number == numbers[0]
        with pytest.raises(NotFound):
            await orders.find_by_number(session=session, text=strangers.number, user_id=ann.id)
        with pytest.raises(InvalidInput, match="look like CC-"):
            await orders.find_by_number(session=session, text="order 12", user_id=ann.id)


def test_order_numbers_are_forgiving_to_type():
    assert parse_number("cc-7kx3mq") == "CC-7KX3MQ"
    assert parse_number("#CC 7KX3MQ") == "CC-7KX3MQ"
    assert parse_number("7kx3mq") == "CC-7KX3MQ"
    assert parse_number("CC-7KX3M0") is None  # 0 is never used: no 0/O confusion
    assert parse_number("hello") is None


async def test_fifty_shoppers_checking_out_for_ten_lamps_make_ten_orders(shop):
    import asyncio

    from core.carts.models import Cart

    async with shop.transaction() as session:
        lamp = await factories.product(session, name="Lamp", stock=10)
        cart_ids = [(await cart_with(session, (lamp, 1))).id for _ in range(50)]

    async def checkout(cart_id: int) -> str | None:
        try:
            async with shop.transaction() as session:
                cart = await session.get(Cart, cart_id)
                order = await orders.place_order(session=session, cart=cart, actor=SHOPPER,
                                                 reservation_minutes=30)
                return order.number
        except Conflict as refused:
            assert refused.message == "Sorry, Lamp is sold out."
            return None

    numbers = [n for n in await asyncio.gather(*(checkout(c) for c in cart_ids)) if n]
    assert len(numbers) == len(set(numbers)) == 10
    async with shop.transaction() as session:
        stock = await inventory.get(session=session, product_id=lamp.id)
        assert (stock.on_hand, stock.reserved) == (10, 10)


async def test_staff_find_a_customers_orders_a_page_at_a_time(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, stock=50)
        ann = await factories.user(session, "ann.search@example.com")
        mine = []
        for _ in range(3):
            order = await placed(session, (mug, 1))
            order.user_id = ann.id
            mine.append(order.number)
        await placed(session, (mug, 1))  # someone else's
        first = await orders.search(session=session, customer_id=ann.id, per_page=2)
        second = await orders.search(session=session, customer_id=ann.id, per_page=2, page=2)
        assert (first.total, first.pages) == (3, 2)
        assert {o.number for o in first.items + second.items} == set(mine)
        everyone = await orders.search(session=session, page=99_999_999, per_page=3)
        assert (everyone.total, everyone.page, len(everyone.items)) == (4, 2, 1)  # the last
