"""Return rules inside core: what can be returned, bad quantities, the window, photos,
staff steps repeated, and the refund's worth (the refund-by-lines one)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.catalog.images import check_image
from core.errors import Conflict, InvalidInput, NotFound
from core.orders import service as orders
from core.orders.states import OrderStatus
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage
from core.payments import service as payments
from core.returns import photos
from core.returns import service as returns
from core.returns.states import ReturnStatus
from tests.core.payments.test_line_refunds import _order
from tests.core.payments.test_payments import SYSTEM

WINDOW = 30


async def _sent(shop, delivered: bool = True):
    order_id, gateways, lines, mug, pot, *_ = await _order(shop)
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        await payments.ship(session=session, order=order, gateways=gateways, actor=SYSTEM,
                            carrier="DHL", tracking_number="1")
        if delivered:
            await orders.advance(session=session, order=order, to=OrderStatus.DELIVERED,
                                 actor=SYSTEM)
    return order_id, gateways, lines[mug], lines[pot]


async def _ask(shop, order_id, quantities, reason="damaged", details=""):
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        ret = await returns.request(session=session, order=order, quantities=quantities,
                                    reason=reason, details=details, chat_key="web:abc",
                                    actor=SYSTEM, vault=shop.vault, window_days=WINDOW)
        return ret.id


async def test_an_order_not_yet_sent_cannot_be_returned(shop):
    order_id, _, lines, mug, *_ = await _order(shop)
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        with pytest.raises(Conflict, match="only orders that have been sent"):
            await returns.request(session=session, order=order, quantities={lines[mug]: 1},
                                  reason="damaged", details="", chat_key="web:abc",
                                  actor=SYSTEM, vault=shop.vault, window_days=WINDOW)


@pytest.mark.parametrize("units, problem", [
    (3, "You bought 2 of Mug; 2 can be returned."), (-1, "must be a whole number"),
    (True, "must be a whole number"), (0, "Choose at least one item")])
async def test_bad_quantities_are_refused_and_nothing_is_recorded(shop, units, problem):
    order_id, _, mug, _ = await _sent(shop)
    with pytest.raises(InvalidInput, match=problem):
        await _ask(shop, order_id, {mug: units})
    with pytest.raises(InvalidInput, match="not on order"):
        await _ask(shop, order_id, {999_999: 1})
    with pytest.raises(InvalidInput, match="choose one of the reasons"):
        await _ask(shop, order_id, {mug: 1}, reason="bored")
    with pytest.raises(InvalidInput, match="at most 1000 characters"):
        await _ask(shop, order_id, {mug: 1}, details="x" * 1001)
    async with shop.transaction() as session:
        assert not await session.scalar(select(AuditEvent).where(
            AuditEvent.action == "return.requested"))


async def test_units_in_a_return_under_way_are_spoken_for_until_it_is_refused(shop):
    order_id, _, mug, pot = await _sent(shop)
    first = await _ask(shop, order_id, {mug: 1})
    with pytest.raises(Conflict, match="already in return RT-"):
        await _ask(shop, order_id, {mug: 2})
    await _ask(shop, order_id, {mug: 1, pot: 1})      # what is left is still free
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        assert await returns.returnable(session=session, order=order) == {mug: 0, pot: 0}
        await returns.refuse(session=session, return_id=first, reason="Used, sorry.",
                             actor=SYSTEM, vault=shop.vault)
        assert await returns.returnable(session=session, order=order) == {mug: 1, pot: 0}


async def test_the_window_counts_from_delivery_and_not_while_on_the_way(shop):
    order_id, _, mug, _ = await _sent(shop, delivered=False)
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        later = returns.now() + timedelta(days=365)
        await returns.check_returnable(session=session, order=order, window_days=WINDOW,
                                       at=later)  # shipped, never delivered: still open
        await orders.advance(session=session, order=order, to=OrderStatus.DELIVERED,
                             actor=SYSTEM)
        arrived = await returns.delivered_at(session=session, order=order)
        await returns.check_returnable(session=session, order=order, window_days=WINDOW,
                                       at=arrived + timedelta(days=WINDOW))
        with pytest.raises(Conflict, match="accepted for 30 days after delivery"):
            await returns.check_returnable(session=session, order=order, window_days=WINDOW,
                                           at=arrived + timedelta(days=WINDOW, seconds=1))


async def test_someone_elses_order_is_not_found_like_a_missing_one(shop):
    order_id, *_ = await _sent(shop)
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        with pytest.raises(NotFound) as theirs:
            await returns.find_order(session=session, text=order.number, user_id=None,
                                     identity_id=424242)
        with pytest.raises(NotFound) as missing:
            await returns.find_order(session=session, text="CC-2222AA", user_id=None,
                                     identity_id=424242)
    assert theirs.value.message.replace(order.number, "CC-2222AA") == missing.value.message
    assert theirs.value.code == missing.value.code


def _picture(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), colour).save(out, format="PNG")
    return out.getvalue()


async def test_photos_are_kept_once_each_and_at_most_three(shop):
    order_id, _, mug, _ = await _sent(shop)
    return_id = await _ask(shop, order_id, {mug: 1})
    storage = photos.storage(shop.settings)
    async with shop.transaction() as session:
        for colour in ("red", "red", "green", "blue"):
            await returns.add_photo(session=session, return_id=return_id, storage=storage,
                                    image=check_image(_picture(colour)), actor=SYSTEM)
        with pytest.raises(Conflict, match="already has 3 photos"):
            await returns.add_photo(session=session, return_id=return_id, storage=storage,
                                    image=check_image(_picture("white")), actor=SYSTEM)
        ret = await returns.get(session=session, return_id=return_id)
        assert len(ret.photos) == 3


def _files(storage) -> set[str]:
    return {path.relative_to(storage.directory).as_posix()
            for path in storage.directory.rglob("*") if path.is_file()}


async def test_refused_and_rolled_back_photos_leave_no_file_behind(shop):
    order_id, _, mug, _ = await _sent(shop)
    first, second = await _ask(shop, order_id, {mug: 1}), await _ask(shop, order_id, {mug: 1})
    storage = photos.storage(shop.settings)
    refused = 0
    async with shop.transaction() as session:  # seven uploads: three fit
        for colour in ("red", "green", "blue", "white", "black", "yellow", "cyan"):
            try:
                await returns.add_photo(session=session, return_id=first, storage=storage,
                                        image=check_image(_picture(colour)), actor=SYSTEM)
            except Conflict:
                refused += 1
        kept = {photo.storage_key for photo in
                (await returns.get(session=session, return_id=first)).photos}
    assert refused == 4 and len(kept) == 3
    assert _files(storage) == kept, "a refused photo is never written"

    with pytest.raises(RuntimeError):  # the turn fails after the photos were written
        async with shop.transaction() as session:
            for colour in ("purple", "red"):  # red is the first return's file too
                await returns.add_photo(session=session, return_id=second, storage=storage,
                                        image=check_image(_picture(colour)), actor=SYSTEM)
            raise RuntimeError("the turn failed")
    assert _files(storage) == kept, "the new file went with the rollback; a shared one stays"

    async with shop.transaction() as session:  # a savepoint rolled back takes its file only
        await returns.add_photo(session=session, return_id=second, storage=storage,
                                image=check_image(_picture("orange")), actor=SYSTEM)
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                await returns.add_photo(session=session, return_id=second, storage=storage,
                                        image=check_image(_picture("pink")), actor=SYSTEM)
                raise RuntimeError("refused later in the turn")
        orange = {photo.storage_key for photo in
                  (await returns.get(session=session, return_id=second)).photos}
    assert len(orange) == 1 and _files(storage) == kept | orange


async def test_staff_steps_repeated_change_nothing_and_tell_the_shopper_once(shop):
    order_id, gateways, mug, _ = await _sent(shop)
    return_id = await _ask(shop, order_id, {mug: 2}, details="Both chipped")
    steps = [lambda session: returns.approve(
                 session=session, return_id=return_id, actor=SYSTEM,
                 instructions="Send them to 1 Dock Road.", vault=shop.vault),
             lambda session: returns.receive(session=session, return_id=return_id,
                                             restock=False, actor=SYSTEM),
             lambda session: returns.refund(session=session, return_id=return_id,
                                            gateways=gateways, actor=SYSTEM)]
    for step in steps:
        for _ in range(2):  # a double click
            async with shop.transaction() as session:
                await step(session)
    async with shop.transaction() as session:
        ret = await returns.get(session=session, return_id=return_id)
        order = await orders.get(session=session, order_id=order_id)
        # two mugs and their tax share (as staff refunding these lines by hand would give)
        assert ret.status is ReturnStatus.REFUNDED
        assert ret.refunded_minor == order.refunded_minor == 2500 + 1498 * 2500 // 7490
        told = list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.chat_key == "web:abc")))
        assert len(told) == 3  # approved, received, refunded: once each
        assert returns.opened(ret.details_sealed, shop.vault) == "Both chipped"
        with pytest.raises(Conflict, match="is refunded and cannot become refused"):
            await returns.refuse(session=session, return_id=return_id, actor=SYSTEM,
                                 reason="Too late", vault=shop.vault)


async def _received(shop, order_id, gateways, quantities):
    return_id = await _ask(shop, order_id, quantities)
    async with shop.transaction() as session:
        await returns.approve(session=session, return_id=return_id, actor=SYSTEM,
                              instructions="Send them to 1 Dock Road.", vault=shop.vault)
        await returns.receive(session=session, return_id=return_id, restock=False,
                              actor=SYSTEM)
    return return_id


async def _refunds(session) -> int:
    return len(list(await session.scalars(select(AuditEvent).where(
        AuditEvent.action == "payment.refunded"))))


async def test_a_return_whose_items_staff_refunded_by_hand_is_done_without_a_second_refund(
        shop):
    order_id, gateways, mug, _ = await _sent(shop)
    return_id = await _received(shop, order_id, gateways, {mug: 2})
    async with shop.transaction() as session:  # from the order page, before the return's step
        order = await orders.get(session=session, order_id=order_id)
        await payments.refund_lines(session=session, order=order, gateways=gateways,
                                    actor=SYSTEM, quantities={mug: 2}, reason="by hand")
        paid_back = order.refunded_minor
    for _ in range(2):  # the return's step, and a double click
        async with shop.transaction() as session:
            await returns.refund(session=session, return_id=return_id, gateways=gateways,
                                 actor=SYSTEM)
    async with shop.transaction() as session:
        ret = await returns.get(session=session, return_id=return_id)
        order = await orders.get(session=session, order_id=order_id)
        assert ret.status is ReturnStatus.REFUNDED
        assert order.refunded_minor == paid_back and await _refunds(session) == 1
        assert ret.refunded_minor == paid_back == 2500 + 1498 * 2500 // 7490
        moved = await session.scalar(select(AuditEvent).where(
            AuditEvent.action == "return.refunded"))
        assert moved.data["refunded_earlier_minor"] == paid_back
        told = [m for m in await session.scalars(select(OutboxMessage).where(
            OutboxMessage.chat_key == "web:abc"))]
        assert len(told) == 3  # approved, received, done: once each
        last = outbox.opened(told[-1].payload, shop.vault)
        assert "was already refunded to you" in last["text"], last


async def test_a_return_partly_refunded_by_hand_refunds_only_the_rest(shop):
    order_id, gateways, mug, _ = await _sent(shop)
    return_id = await _received(shop, order_id, gateways, {mug: 2})
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        bought = next(line.quantity for line in order.lines if line.id == mug)
        await payments.refund_lines(session=session, order=order, gateways=gateways,
                                    actor=SYSTEM, quantities={mug: bought - 1},
                                    reason="by hand")
        before = order.refunded_minor
    async with shop.transaction() as session:
        await returns.refund(session=session, return_id=return_id, gateways=gateways,
                             actor=SYSTEM)
    async with shop.transaction() as session:
        ret = await returns.get(session=session, return_id=return_id)
        order = await orders.get(session=session, order_id=order_id)
        assert ret.status is ReturnStatus.REFUNDED and await _refunds(session) == 2
        assert next(line.refunded_quantity for line in order.lines if line.id == mug) == bought
        given = order.refunded_minor - before
        assert given > 0 and ret.refunded_minor > given, "the rest now, the earlier counted"


async def test_each_step_of_a_return_is_mailed_to_the_order_address_once(shop):
    """Returns go through the notification service: the chat as before, plus a mail per
    step to the checkout address, with the staff's words escaped in the HTML part."""
    from core.notifications import service as notifications
    from core.notifications.models import NotificationDelivery

    order_id, gateways, mug, _ = await _sent(shop)
    async with shop.transaction() as session:
        order = await orders.get(session=session, order_id=order_id)
        order.email = "Ann@Example.com"
    return_id = await _ask(shop, order_id, {mug: 1})
    for _ in range(2):  # a double click tells nobody twice
        async with shop.transaction() as session:
            await returns.approve(session=session, return_id=return_id, actor=SYSTEM,
                                  instructions="Send to <b>1 Dock Road</b>.", vault=shop.vault)
    async with shop.transaction() as session:
        await returns.receive(session=session, return_id=return_id, restock=False,
                              actor=SYSTEM)
    async with shop.transaction() as session:
        mails = list(await session.scalars(select(NotificationDelivery).where(
            NotificationDelivery.subject == f"return:{return_id}",
            NotificationDelivery.channel == "email").order_by(NotificationDelivery.id)))
        assert [m.kind for m in mails] == ["return_approved", "return_received"]
        mail = await notifications.sealed_for(session=session, delivery_id=mails[0].id,
                                              vault=shop.vault)
        assert mail is not None and mail["to"] == "Ann@Example.com"
        assert mail["subject"].startswith("Your return RT-") and "approved" in mail["subject"]
        assert "Send to <b>1 Dock Road</b>." in mail["text"]
        assert "Send to &lt;b&gt;1 Dock Road&lt;/b&gt;." in mail["html"]
        chat = [outbox.opened(m.payload, shop.vault)["text"] for m in await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_key == "web:abc")
            .order_by(OutboxMessage.id))]
        assert chat[0].startswith("Good news: your return RT-")
        assert chat[0].endswith("How to send the items back:\nSend to <b>1 Dock Road</b>.")
