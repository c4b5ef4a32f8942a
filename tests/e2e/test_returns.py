"""Returns from the outside: a web chat shopper asks to return a delivered order's items
with a photo, staff answer in the console over HTTP, and every step reaches the chat;
on SQLite and PostgreSQL. Then a Telegram shopper sends a photo through the Bot API."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from core.accounts.models import Role, User
from core.audit.actor import Actor, Channel
from core.audit.models import AuditEvent
from core.inventory.models import StockItem
from core.orders import service as orders
from core.orders.models import Order
from core.orders.states import OrderStatus
from core.payments import service as payments
from core.returns.models import ReturnRequest
from core.returns.states import ReturnStatus
from core.support import conversations
from core.support.models import HandoffRequest, HandoffStatus, Origin
from tests import factories
from tests.admin_web.console import ConsoleUser, csrf
from tests.e2e.checkout_steps import place
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper

STAFF = Actor.system("test warehouse")
PASSWORD = "correct horse battery"


def jpeg(colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
async def client(settings, trained):
    async with served(settings, trained) as http:
        async with http.shop.transaction() as session:  # type: ignore[attr-defined]
            await factories.user(session, "boss@example.com", password=PASSWORD,
                                 role=Role.ADMIN)
            await factories.user(session, "help@example.com", password=PASSWORD,
                                 role=Role.SUPPORT)
        yield http


async def paid_and_sent(client, shopper: Shopper, delivered: bool = True) -> str:
    """The shopper buys two blue mugs in the web chat and pays; the warehouse ships them
    (and the courier delivers). The order's number."""
    number = await place(shopper)
    paid = await client.post(shopper.payment_path(), data={"outcome": "pay"})
    assert paid.status_code == 200
    assert "is confirmed" in (await shopper.news())[0]["text"]
    async with client.shop.transaction() as session:
        order = await orders.find_by_number(session=session, text=number)
        await payments.ship(session=session, order=order, gateways=client.shop.gateways,
                            actor=STAFF, carrier="DHL", tracking_number="JJD0001")
        if delivered:
            await orders.advance(session=session, order=order, to=OrderStatus.DELIVERED,
                                 actor=STAFF)
    assert "on its way" in (await shopper.news())[0]["text"]
    return number


async def blue_mugs_on_hand(client) -> int:
    from core.catalog.models import Product

    async with client.shop.transaction() as session:
        return int(await session.scalar(select(StockItem.on_hand).join(
            Product, Product.id == StockItem.product_id).where(Product.sku == "MUG-BLUE-350")))


async def test_a_shopper_returns_a_mug_with_a_photo_and_staff_take_it_to_a_refund(client):
    ann = Shopper(client)
    number = await paid_and_sent(client, ann)

    await ann.say("I want to return an item")
    assert "Which order" in ann.text
    await ann.press(number)
    assert "Blue mug: 2 can be returned" in ann.text
    await ann.press("Blue mug")
    assert "How many Blue mug" in ann.text
    await ann.say("3")                                # more than bought: refused, kept going
    assert "You bought 2 of Blue mug; 2 can be returned." in ann.text
    await ann.press("Blue mug")
    await ann.press("1")
    assert "Blue mug: returning 1" in ann.text
    await ann.press("Continue")
    await ann.press("Arrived damaged")
    await ann.say("The handle broke off in the box")
    assert "is requested" in ann.text
    return_number = re.search(r"return (RT-\w{6})", ann.text).group(1)

    upload = await client.post("/webchat/api/photos", content=jpeg(),
                               headers={"X-Chat-Session": ann.session,
                                        "Content-Type": "image/jpeg"})
    assert upload.status_code == 200, upload.text
    assert f"Photo added to return {return_number} (1 of 3)" in upload.json()["replies"][0][
        "text"]
    junk = await client.post("/webchat/api/photos", content=b"GIF89a not really",
                             headers={"X-Chat-Session": ann.session,
                                      "Content-Type": "image/gif"})
    assert junk.status_code == 200 and "not a readable image" in junk.json()["replies"][0][
        "text"]
    client.cookies.clear()  # the page's cookie would name the chat too
    anonymous = await client.post("/webchat/api/photos", content=jpeg(),
                                  headers={"Content-Type": "image/jpeg"})
    assert anonymous.status_code == 401
    await ann.press("Done")

    async with client.shop.transaction() as session:  # the words are sealed at rest
        ret = await session.scalar(select(ReturnRequest))
        assert ret.details_sealed and "handle" not in ret.details_sealed
        return_id = ret.id

    # "Where is my return?" answers with its state.
    await ann.say("where is my return?")
    assert f"{return_number} for order {number}: requested" in ann.text

    boss = ConsoleUser(client, "boss@example.com", PASSWORD)
    await boss.sign_in()
    listing = await client.get("/admin/returns", params={"status": "requested"})
    assert return_number in listing.text and number in listing.text
    page = await client.get(f"/admin/returns/{return_id}")
    assert "The handle broke off in the box" in page.text and "damaged" in page.text
    photo = re.search(r'<img src="(/admin/returns/\d+/photos/\d+)"', page.text).group(1)
    shown = await client.get(photo)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"

    token = csrf(page.text)
    for _ in range(2):  # a double click: the second changes nothing and tells nobody
        approved = await client.post(f"/admin/returns/{return_id}/approve", data={
            "csrf": token, "instructions": "Post it to Chatcart Returns, 1 Dock Road."})
        assert approved.status_code == 303
    told = await ann.news()
    assert len(told) == 1 and "is approved" in told[0]["text"]
    assert "1 Dock Road" in told[0]["text"]

    before = await blue_mugs_on_hand(client)
    received = await client.post(f"/admin/returns/{return_id}/receive",
                                 data={"csrf": token, "restock": "1"})
    assert received.status_code == 303
    assert await blue_mugs_on_hand(client) == before + 1
    assert "received the items" in (await ann.news())[0]["text"]

    refunded = await client.post(f"/admin/returns/{return_id}/refund", data={"csrf": token})
    assert refunded.status_code == 303
    again = await client.post(f"/admin/returns/{return_id}/refund", data={"csrf": token})
    assert again.status_code == 303
    news = " ".join(reply["text"] for reply in await ann.news())
    assert "€12.50" in news and f"Return {return_number} is complete" in news
    async with client.shop.transaction() as session:
        order = await orders.find_by_number(session=session, text=number)
        assert order.refunded_minor == 1250 and order.lines[0].refunded_quantity == 1
        ret = await session.get(ReturnRequest, return_id)
        assert ret.status is ReturnStatus.REFUNDED and ret.refunded_minor == 1250
    history = (await client.get(f"/admin/returns/{return_id}")).text
    for step in ("return.requested", "return.photo_added", "return.approved",
                 "return.received", "return.refunded"):
        assert step in history


async def test_a_second_return_is_refused_and_support_cannot_restock_or_refund(client):
    ann = Shopper(client)
    number = await paid_and_sent(client, ann, delivered=False)   # shipped: window not begun
    await ann.say(f"I want to return items from {number}")
    await ann.press("Blue mug")
    await ann.press("1")
    await ann.press("Continue")
    await ann.press("Changed my mind")
    await ann.press("Skip")
    first = re.search(r"return (RT-\w{6})", ann.text).group(1)
    await ann.press("Done")
    await ann.say(f"I want to return items from {number}")
    assert "Blue mug: 1 can be returned" in ann.text
    await ann.press("Blue mug")
    await ann.say("2")
    assert (f"Blue mug from order {number} is already in return {first}; only 1 more can be "
            "returned.") in ann.text
    await ann.press("Stop the return")
    assert "No return was asked for" in ann.text
    async with client.shop.transaction() as session:
        assert len(list(await session.scalars(select(ReturnRequest)))) == 1
        return_id = (await session.scalar(select(ReturnRequest))).id

    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    page = await client.get(f"/admin/returns/{return_id}")
    refused = await client.post(f"/admin/returns/{return_id}/refuse", data={
        "csrf": csrf(page.text), "reason": "No"})
    assert refused.status_code == 400 and "why the return is refused" in refused.text
    await client.post(f"/admin/returns/{return_id}/approve", data={
        "csrf": csrf(page.text), "instructions": "Use the label in the box."})
    page = await client.get(f"/admin/returns/{return_id}")
    assert "The parcel is here" in page.text and 'name="restock"' not in page.text
    before = await blue_mugs_on_hand(client)
    restocked = await client.post(f"/admin/returns/{return_id}/receive", data={
        "csrf": csrf(page.text), "restock": "1"})  # a forged tick: stock is admins' business
    assert restocked.status_code == 403
    assert "Only an admin can put returned units back on the shelf" in restocked.text
    assert await blue_mugs_on_hand(client) == before
    async with client.shop.transaction() as session:
        ret = await session.get(ReturnRequest, return_id)
        assert ret.status is ReturnStatus.APPROVED and not ret.restocked
    received = await client.post(f"/admin/returns/{return_id}/receive",
                                 data={"csrf": csrf(page.text)})
    assert received.status_code == 303
    forbidden = await client.post(f"/admin/returns/{return_id}/refund",
                                  data={"csrf": csrf(page.text)})
    assert forbidden.status_code == 403
    late = await client.post(f"/admin/returns/{return_id}/refuse", data={
        "csrf": csrf(page.text), "reason": "Changed our minds"})
    assert late.status_code == 409 and "received and cannot become refused" in late.text


async def test_someone_elses_order_reads_exactly_like_a_missing_one(client):
    ann = Shopper(client)
    number = await paid_and_sent(client, ann)
    bob = Shopper(client)
    await bob.say(f"I want to return items from {number}")
    theirs = bob.text
    await bob.say("I want to return items from CC-2222AA")
    missing = bob.text
    assert theirs.replace(number, "CC-2222AA") == missing
    assert "I can't find an order" in missing
    await bob.act(f"retord:{number}")                   # a forged button: the same
    assert bob.text.replace(number, "CC-2222AA") == missing


async def test_the_return_window_closes_days_after_delivery(client):
    ann = Shopper(client)
    number = await paid_and_sent(client, ann)
    async with client.shop.transaction() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        for event in await session.scalars(select(AuditEvent).where(
                AuditEvent.subject_type == "order", AuditEvent.subject_id == str(order.id))):
            event.occurred_at -= timedelta(days=31)
    await ann.say("I want to return something")
    await ann.press(number)
    assert "Returns are accepted for 30 days after delivery" in ann.text


async def _return_with_words(ann: Shopper, number: str, words: str) -> str:
    """From the order's button through the dialog, the words typed; the return's number."""
    await ann.press(number)
    await ann.press("Blue mug")
    await ann.press("1")
    await ann.press("Continue")
    await ann.press("Arrived damaged")
    assert "Tell us in a few words" in ann.text
    await ann.say(words)
    assert "is requested" in ann.text, ann.text  # the words reached the dialog
    return re.search(r"return (RT-\w{6})", ann.text).group(1)


async def _recorded(client, chat_key: str) -> tuple[list[str], str | None]:
    """What the chat's support transcript holds, and the return's words as recorded."""
    async with client.shop.transaction() as session:
        request = await conversations.active_for_chat(session=session, chat_key=chat_key)
        said = await conversations.transcript(session=session, handoff_id=request.id)
        ret = await session.scalar(select(ReturnRequest))
        words = client.shop.vault.open(ret.details_sealed).get("text") if ret else None
    return [entry.text for entry in said], words


async def test_a_return_request_is_not_lost_while_a_person_is_awaited(client):
    ann = Shopper(client)
    number = await paid_and_sent(client, ann)
    await ann.press("Menu")
    await ann.press("Talk to a person")
    assert "join this chat" in ann.text
    await ann.say("I want to return an item")
    assert "passed on to our team" in ann.text           # the words reach the agent...
    said, _ = await _recorded(client, ann.chat_key)
    assert "I want to return an item" in said
    await ann.press("Return items")                      # ...and the return can start now
    assert "Which order would you like to return items from?" in ann.text
    assert number in ann.buttons()[0]
    return_number = await _return_with_words(ann, number, "The handle broke off in the box")
    said, words = await _recorded(client, ann.chat_key)
    assert words == "The handle broke off in the box"    # the return is recorded
    assert "The handle broke off in the box" in said     # and the agent sees the turn
    assert any(return_number in text and "is requested" in text for text in said)
    await ann.press("Done")
    assert await ann.say("when will someone answer?") == []  # no dialog waits: the agent's
    said, _ = await _recorded(client, ann.chat_key)
    assert said[-1] == "when will someone answer?"


async def test_a_return_is_recorded_while_a_person_holds_the_chat(client):
    ann = Shopper(client)
    number = await paid_and_sent(client, ann)
    await ann.press("Menu")
    await ann.press("Talk to a person")
    async with client.shop.transaction() as session:
        helper = await session.scalar(select(User).where(User.email == "help@example.com"))
        request = await conversations.active_for_chat(session=session, chat_key=ann.chat_key)
        await conversations.agent_reply(
            session=session, handoff_id=request.id, staff_id=helper.id,
            text="Hello, you can start the return with the button below.",
            origin=Origin.CONSOLE, actor=Actor(Channel.ADMIN, user_id=helper.id))
    assert any("start the return" in reply["text"] for reply in await ann.news())
    assert await ann.say("ok, thanks") == []              # with a person: the bot is quiet
    orders_shown = await ann.act("returns")
    await ann.say("not sure which one")                   # not an order: passed on, said so
    assert "passed on to our team" in ann.text and "carry on" in ann.text
    ann.last = orders_shown                               # the order buttons above
    await _return_with_words(ann, number, "Cracked glaze on the rim")
    said, words = await _recorded(client, ann.chat_key)
    assert words == "Cracked glaze on the rim"
    assert "not sure which one" in said and "Cracked glaze on the rim" in said
    async with client.shop.transaction() as session:
        held = await session.get(HandoffRequest, request.id)
        assert held.status is HandoffStatus.TAKEN       # still with the person


async def test_cancelling_a_paid_order_asks_first(client):
    ann = Shopper(client)
    number = await place(ann)
    await client.post(ann.payment_path(), data={"outcome": "pay"})
    await ann.news()
    await ann.say(f"cancel order {number}")
    assert f"Cancel order {number}? The €29.90 you paid will be refunded." in ann.text
    async with client.shop.transaction() as session:
        order = await orders.find_by_number(session=session, text=number)
        assert order.status is OrderStatus.PAID
    await ann.press("Yes, cancel")
    assert f"Order {number} is cancelled. €29.90 is being refunded to you." in ann.text
    await ann.act(f"cancelok:{number}")                 # the button pressed again
    assert "already refunded" in ann.text
