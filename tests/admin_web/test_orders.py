"""Orders in the console: list, search, detail, and the actions by role, each through
core's rules (refusals shown with the reason, nothing changed), with the shopper told."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.accounts import identities
from core.accounts import service as accounts
from core.audit.actor import Actor
from core.carts import service as carts
from core.inventory import service as inventory
from core.orders import service as orders
from core.orders.states import OrderStatus
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage
from core.payments import service as payments
from tests import factories
from tests.admin_web.conftest import PASSWORD
from tests.admin_web.console import ConsoleUser, csrf, signed_in_admin

SYSTEM = Actor.system("test")


async def _paid_order(shop, email: str = "ann@example.com") -> str:
    gateway = shop.gateways["offline"]
    async with shop.transaction() as session:
        lamp = await factories.product(session, name="Desk lamp", price=7900, stock=4,
                                       sku=f"LAMP-{email[:3]}")
        cart = await factories.guest_cart(session)
        await carts.add_item(session=session, cart=cart, product_id=lamp.id, quantity=2,
                             actor=SYSTEM)
        order = await orders.place_order(session=session, cart=cart, actor=SYSTEM,
                                         reservation_minutes=30, email=email)
        order.chat_key = "web:shopper-0001"
        payment = await payments.start(session=session, order=order, gateway=gateway,
                                       capture=True, actor=SYSTEM)
        await payments.apply_event(session=session, event=gateway.event(
            payment.reference, payment, "pay", True), gateway=gateway, vault=shop.vault)
        return order.number


async def test_staff_find_orders_by_status_number_and_email(client):
    first = await _paid_order(client.shop, "ann@example.com")
    second = await _paid_order(client.shop, "bob@example.com")
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    listing = (await client.get("/admin/orders")).text
    assert first in listing and second in listing and "€158.00" in listing
    by_email = (await client.get("/admin/orders", params={"q": "BOB@"})).text
    assert second in by_email and first not in by_email
    by_number = (await client.get("/admin/orders", params={"q": first.lower()})).text
    assert first in by_number and second not in by_number
    none = (await client.get("/admin/orders", params={"status": "shipped"})).text
    assert "No orders match" in none
    wildcard = (await client.get("/admin/orders", params={"q": "%"})).text
    assert "No orders match" in wildcard, "a % is a character, not a wildcard"
    detail = (await client.get(f"/admin/orders/{first}")).text
    assert "Desk lamp" in detail and "offline" in detail and "order.placed" in detail
    assert "Ship</button>" not in detail, "support sees no actions"


async def test_support_cannot_act_even_by_posting_directly(client):
    number = await _paid_order(client.shop)
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    page = await client.get(f"/admin/orders/{number}")
    refused = await client.post(f"/admin/orders/{number}/ship", data={
        "csrf": csrf(page.text), "carrier": "DHL", "tracking": "1"})
    assert refused.status_code == 403 and "role does not allow" in refused.text
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        order = await orders.find_by_number(session=session, text=number)
        assert order.status is OrderStatus.PAID


async def test_an_admin_ships_then_refunds_part_and_the_shopper_is_told(client):
    number = await _paid_order(client.shop)
    await signed_in_admin(client)
    page = await client.get(f"/admin/orders/{number}")
    token = csrf(page.text)
    shipped = await client.post(f"/admin/orders/{number}/ship", data={
        "csrf": token, "carrier": "DHL", "tracking": "JD0146000062"})
    assert shipped.status_code == 303
    cancel = await client.post(f"/admin/orders/{number}/cancel", data={
        "csrf": token, "reason": "changed mind"})
    assert cancel.status_code == 409 and "already left the warehouse" in cancel.text
    bad = await client.post(f"/admin/orders/{number}/refund", data={
        "csrf": token, "amount": "12,50", "reason": "x"})
    assert bad.status_code == 400 and "not an amount" in bad.text
    too_much = await client.post(f"/admin/orders/{number}/refund", data={
        "csrf": token, "amount": "500.00", "reason": "x"})
    assert too_much.status_code == 409 and "at most €158.00" in too_much.text
    refund = await client.post(f"/admin/orders/{number}/refund", data={
        "csrf": token, "amount": "79.00", "reason": "one lamp broken"})
    assert refund.status_code == 303
    detail = (await client.get(f"/admin/orders/{number}")).text
    assert "partially refunded" in detail and "JD0146000062" in detail
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        order = await orders.find_by_number(session=session, text=number)
        assert order.status is OrderStatus.PARTIALLY_REFUNDED and order.refunded_minor == 7900
        told = [outbox.opened(m.payload, client.shop.vault)["text"]  # type: ignore[attr-defined,index]
                for m in await session.scalars(select(OutboxMessage))]
    assert any("on its way with DHL" in text for text in told)
    assert any("refunded €79.00" in text for text in told)


async def test_an_unknown_order_is_a_404(client):
    await signed_in_admin(client)
    missing = await client.get("/admin/orders/CC-ZZZZZZ")
    assert missing.status_code == 404


async def test_orders_filter_by_channel_and_dates_and_move_through_fulfilment(client):
    from datetime import date, timedelta

    number = await _paid_order(client.shop)
    await signed_in_admin(client)
    today = date.today()
    listed = (await client.get("/admin/orders", params={
        "channel": "system", "since": today.isoformat(), "until": today.isoformat()})).text
    assert number in listed
    elsewhere = (await client.get("/admin/orders", params={"channel": "telegram"})).text
    assert number not in elsewhere
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert number not in (await client.get("/admin/orders", params={"since": tomorrow})).text
    page = await client.get(f"/admin/orders/{number}")
    token = csrf(page.text)
    early = await client.post(f"/admin/orders/{number}/delivered", data={"csrf": token})
    assert early.status_code == 409 and "cannot become delivered" in early.text
    assert (await client.post(f"/admin/orders/{number}/processing",
                              data={"csrf": token})).status_code == 303
    await client.post(f"/admin/orders/{number}/ship", data={
        "csrf": token, "carrier": "DHL", "tracking": "JD01"})
    assert (await client.post(f"/admin/orders/{number}/delivered",
                              data={"csrf": token})).status_code == 303
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        order = await orders.find_by_number(session=session, text=number)
        assert order.status is OrderStatus.DELIVERED


async def test_an_admin_refunds_one_returned_lamp_by_its_line(client):
    number = await _paid_order(client.shop)
    await signed_in_admin(client)
    page = await client.get(f"/admin/orders/{number}")
    line = re.search(r'name="(line-\d+)" value="0" min="0" max="2"', page.text)
    assert line and "Not shipped yet: refunded units go back on sale" in page.text
    token = csrf(page.text)
    await client.post(f"/admin/orders/{number}/ship", data={
        "csrf": token, "carrier": "DHL", "tracking": "JD02"})
    shipped = (await client.get(f"/admin/orders/{number}")).text
    assert "can be sold again" in shipped
    for units, says in [("3", "Only 2 of Desk lamp"), ("two", "whole number"),
                        ("0", "at least one unit")]:
        refused = await client.post(f"/admin/orders/{number}/refund-lines", data={
            "csrf": token, line.group(1): units, "reason": "returned"})
        assert refused.status_code == 400 and says in refused.text
    form = {"csrf": token, line.group(1): "1", "reason": "returned unopened", "restock": "1",
            "seen": "0"}
    done = await client.post(f"/admin/orders/{number}/refund-lines", data=form)
    assert done.status_code == 303
    twice = await client.post(f"/admin/orders/{number}/refund-lines", data=form)
    assert twice.status_code == 409 and "changed since the page was opened" in twice.text
    detail = (await client.get(f"/admin/orders/{number}")).text
    assert "(1 refunded)" in detail and "partially refunded" in detail and "of 1" in detail
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        order = await orders.find_by_number(session=session, text=number)
        assert order.refunded_minor == 7900 and order.lines[0].refunded_quantity == 1
        stock = await inventory.get(session=session, product_id=order.lines[0].product_id)
        assert stock.on_hand == 3  # 4, less 2 sold, plus the 1 returned in saleable shape
        told = [outbox.opened(m.payload, client.shop.vault)["text"]  # type: ignore[attr-defined,index]
                for m in await session.scalars(select(OutboxMessage))]
    assert any("refunded €79.00" in text for text in told)


async def test_a_customers_orders_are_found_from_their_page(client):
    number = await _paid_order(client.shop)
    other = await _paid_order(client.shop, "bob@example.com")
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        ann = await accounts.get_by_email(session=session, email="ann@example.com")
        order = await orders.find_by_number(session=session, text=number)
        order.user_id = ann.id
        chat = await identities.identify(session=session, platform="telegram",
                                         platform_user_id="555", display_name="Ann T")
        await identities.link(session=session, identity=chat, user=ann, actor=SYSTEM)
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    person = (await client.get(f"/admin/users/{ann.id}")).text
    assert "telegram" in person and "Ann T" in person and number in person
    assert "Set role" not in person, "support read customers, they do not change them"
    listed = (await client.get("/admin/orders", params={"customer": "ANN@example.com"})).text
    assert number in listed and other not in listed and "Orders of" in listed
    by_link = (await client.get("/admin/orders", params={"customer": str(ann.id)})).text
    assert number in by_link and other not in by_link
    for half_typed in ("ann", "ann@", "²"):
        nobody = await client.get("/admin/orders", params={"customer": half_typed})
        assert nobody.status_code == 200 and "No customer account has that email" in nobody.text
