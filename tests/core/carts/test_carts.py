import asyncio

import pytest

from core.accounts import identities
from core.accounts.linking import link_and_merge
from core.carts import service as carts
from core.carts.errors import CartError
from core.catalog import service as catalog
from core.catalog.models import ProductStatus
from core.errors import Conflict, InvalidInput, NotFound
from core.inventory import service as inventory
from core.money import Money
from core.orders import service as orders
from core.orders.errors import OrderError
from tests import factories
from tests.factories import ADMIN, CURRENCY, SHOPPER


async def test_every_cart_change_returns_the_new_totals(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Blue mug", price=1250)
        lamp = await factories.product(session, name="Desk lamp", price=7900)
        cart = await factories.guest_cart(session)
        view = await carts.add_item(session=session, cart=cart, product_id=mug.id, quantity=2,
                                    actor=SHOPPER)
        assert (view.subtotal, view.item_count) == (Money(2500, "EUR"), 2)
        view = await carts.add_item(session=session, cart=cart, product_id=lamp.id,
                                    actor=SHOPPER)
        view = await carts.add_item(session=session, cart=cart, product_id=mug.id,
                                    actor=SHOPPER)
        assert [(line.name, line.quantity, line.line_total.amount) for line in view.lines] == [
            ("Blue mug", 3, 3750), ("Desk lamp", 1, 7900)]
        assert view.subtotal == Money(11650, "EUR")
        view = await carts.set_quantity(session=session, cart=cart, product_id=mug.id,
                                        quantity=1, actor=SHOPPER)
        assert view.subtotal.amount == 9150
        view = await carts.remove_item(session=session, cart=cart, product_id=lamp.id,
                                       actor=SHOPPER)
        assert (view.subtotal.amount, view.item_count) == (1250, 1)
        view = await carts.set_quantity(session=session, cart=cart, product_id=mug.id,
                                        quantity=0, actor=SHOPPER)
        assert view.is_empty and view.subtotal.amount == 0


async def test_a_cart_cannot_hold_more_than_is_in_stock(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Blue mug", stock=3)
        cart = await factories.guest_cart(session)
        await carts.add_item(session=session, cart=cart, product_id=mug.id, quantity=2,
                             actor=SHOPPER)
        with pytest.raises(Conflict) as caught:
            await carts.add_item(session=session, cart=cart, product_id=mug.id, quantity=2,
                                 actor=SHOPPER)
        assert caught.value.message == (
            "Sorry, only 3 of Blue mug left, and you already have 2 in your cart.")
        with pytest.raises(Conflict, match="only 3 of Blue mug left"):
            await carts.set_quantity(session=session, cart=cart, product_id=mug.id,
                                     quantity=4, actor=SHOPPER)
        assert (await carts.view(session=session, cart=cart)).item_count == 2


@pytest.mark.parametrize("quantity", [0, -1, 100])
async def test_silly_quantities_are_refused_and_change_nothing(shop, quantity):
    async with shop.transaction() as session:
        mug = await factories.product(session, stock=500)
        cart = await factories.guest_cart(session)
        with pytest.raises(InvalidInput) as caught:
            await carts.add_item(session=session, cart=cart, product_id=mug.id,
                                 quantity=quantity, actor=SHOPPER)
        assert caught.value.code is CartError.QUANTITY_INVALID
        assert (await carts.view(session=session, cart=cart)).is_empty


async def test_archived_or_unknown_products_cannot_be_added(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Old mug")
        await catalog.set_status(session=session, actor=ADMIN, product_id=mug.id,
                                 status=ProductStatus.ARCHIVED)
        cart = await factories.guest_cart(session)
        with pytest.raises(Conflict, match="Old mug is no longer sold"):
            await carts.add_item(session=session, cart=cart, product_id=mug.id, actor=SHOPPER)
        with pytest.raises(NotFound):
            await carts.add_item(session=session, cart=cart, product_id=99999, actor=SHOPPER)
        with pytest.raises(NotFound, match="not in your cart"):
            await carts.remove_item(session=session, cart=cart, product_id=mug.id,
                                    actor=SHOPPER)


async def test_totals_follow_todays_price_and_show_what_changed(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, price=1250)
        cart = await factories.guest_cart(session)
        await carts.add_item(session=session, cart=cart, product_id=mug.id, quantity=2,
                             actor=SHOPPER)
        await catalog.update_product(session=session, actor=ADMIN, product_id=mug.id,
                                     price_minor=1000)
        view = await carts.view(session=session, cart=cart)
        assert view.subtotal.amount == 2000
        assert view.lines[0].price_changed


async def test_lines_that_went_out_of_stock_are_flagged(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Blue mug", stock=5, threshold=0)
        cart = await factories.guest_cart(session)
        await carts.add_item(session=session, cart=cart, product_id=mug.id, quantity=4,
                             actor=SHOPPER)
        await inventory.adjust(session=session, product_id=mug.id, delta=-3, reason="broken",
                               actor=ADMIN)
        view = await carts.view(session=session, cart=cart)
        assert view.problems == ["Sorry, only 2 of Blue mug left."]
        view = await carts.set_quantity(session=session, cart=cart, product_id=mug.id,
                                        quantity=2, actor=SHOPPER)
        assert view.problems == []


async def test_a_guest_cart_joins_the_account_cart_on_sign_in(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Blue mug", stock=5)
        lamp = await factories.product(session, name="Lamp", stock=9)
        ann = await factories.user(session, "ann@example.com")
        account_cart = await carts.cart_for(session=session, currency=CURRENCY, user_id=ann.id)
        await carts.add_item(session=session, cart=account_cart, product_id=mug.id,
                             quantity=3, actor=SHOPPER)
        identity = await identities.identify(session=session, platform="telegram",
                                             platform_user_id="77")
        guest = await carts.cart_for(session=session, currency=CURRENCY,
                                     session_key="telegram:77")
        await carts.add_item(session=session, cart=guest, product_id=mug.id, quantity=4,
                             actor=SHOPPER)
        await carts.add_item(session=session, cart=guest, product_id=lamp.id, quantity=2,
                             actor=SHOPPER)
        cart, view = await link_and_merge(session=session, identity=identity, user=ann,
                                          chat_session_key="telegram:77", currency=CURRENCY,
                                          actor=SHOPPER)
        assert cart.id == account_cart.id
        # 3 + 4 mugs wanted, only 5 exist: the merge stops at the stock.
        assert [(line.name, line.quantity) for line in view.lines] == [("Blue mug", 5),
                                                                       ("Lamp", 2)]
        assert (await carts.view(session=session, cart=guest)).is_empty
        assert identity.user_id == ann.id


async def test_an_account_cart_follows_the_shopper_across_platforms(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session)
        ann = await factories.user(session)
        from_telegram = await carts.cart_for(session=session, currency=CURRENCY, user_id=ann.id)
        await carts.add_item(session=session, cart=from_telegram, product_id=mug.id,
                             actor=SHOPPER)
    async with shop.transaction() as session:
        from_slack = await carts.cart_for(session=session, currency=CURRENCY, user_id=ann.id)
        assert from_slack.id == from_telegram.id
        assert (await carts.view(session=session, cart=from_slack)).item_count == 1


async def _two_chats_at_once(shop, user_id: int, change):
    """Two chats of one account change its cart at the same moment: the first holds the
    locked cart a while, the second asks for it meanwhile and must see what the first
    committed."""
    holding = asyncio.Event()

    async def chat(first: bool):
        if not first:
            await holding.wait()
        async with shop.transaction() as session:
            cart = await carts.cart_for(session=session, currency=CURRENCY, user_id=user_id,
                                        lock=True)
            if first:
                holding.set()
                await asyncio.sleep(0.3)
            return await change(session, cart)

    return await asyncio.gather(chat(True), chat(False), return_exceptions=True)


async def test_two_chats_of_one_account_adding_at_once_both_count(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Blue mug", stock=10)
        user = await factories.user(session)
        await carts.cart_for(session=session, currency=CURRENCY, user_id=user.id)

    async def add(session, cart):
        return await carts.add_item(session=session, cart=cart, product_id=mug.id,
                                    actor=SHOPPER)

    first, second = await _two_chats_at_once(shop, user.id, add)
    assert [line.quantity for line in first.lines] == [1]
    assert [line.quantity for line in second.lines] == [2], second
    async with shop.transaction() as session:
        cart = await carts.cart_for(session=session, currency=CURRENCY, user_id=user.id)
        assert [line.quantity for line in cart.lines] == [2]


async def test_two_chats_of_one_account_checking_out_at_once_make_one_order(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Blue mug", stock=10)
        user = await factories.user(session)
        cart = await carts.cart_for(session=session, currency=CURRENCY, user_id=user.id)
        await carts.add_item(session=session, cart=cart, product_id=mug.id, actor=SHOPPER)

    async def check_out(session, cart):
        return await orders.place_order(session=session, cart=cart, actor=SHOPPER,
                                        reservation_minutes=15)

    placed, refused = await _two_chats_at_once(shop, user.id, check_out)
    assert placed.number and isinstance(refused, InvalidInput), refused
    assert refused.code is OrderError.CART_EMPTY
