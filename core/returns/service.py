"""Return use cases: which orders and units a shopper may send back, the request itself,
photos, and staff's steps (approve or refuse, received, refunded).

Every step is checked by the state table (core.returns.states), idempotent when repeated
(a double click on "Approve" changes nothing the second time and tells nobody twice),
audited, and told to the shopper's chat in the same transaction. Units in a return under
way are spoken for: a second return cannot take them again. The money goes back through
the orders' refund-by-lines path (core.payments.service.refund_lines), so a return's
refund is worth exactly what staff refunding those lines by hand would give.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import service as audit
from core.audit.actor import Actor
from core.catalog.images import CheckedImage, ImageStorage
from core.clock import now
from core.crypto import Vault
from core.errors import Conflict, InvalidInput, NotFound
from core.i18n import _
from core.inventory import service as inventory
from core.orders import line_refunds
from core.orders import service as orders
from core.orders.models import Order
from core.orders.numbers import ALPHABET, parse_number
from core.orders.states import LABELS, OrderStatus
from core.paging import PER_PAGE, Paged, paged
from core.payments import service as payments
from core.payments.gateway import Gateway
from core.returns import notices, photos, states
from core.returns.errors import ReturnError
from core.returns.models import ReturnLine, ReturnPhoto, ReturnReason, ReturnRequest
from core.returns.photos import MAX_PHOTOS
from core.returns.states import OPEN, ReturnStatus

CAME_BACK_FROM = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED})
MAX_DETAILS = 1000   # characters of the shopper's own words
MAX_ANSWER = 2000    # characters of staff's instructions or reason


def _new_number() -> str:
    return "RT-" + "".join(secrets.choice(ALPHABET) for _ in range(6))


def sent_out(order: Order) -> bool:
    """Whether the goods left the warehouse (a partial refund keeps the order's place)."""
    status = order.status_before_refund if order.status is OrderStatus.PARTIALLY_REFUNDED \
        else order.status
    return status in CAME_BACK_FROM


def _missing(text: str) -> NotFound:
    number = parse_number(text) or text.strip()[:20]
    return NotFound(ReturnError.NOT_FOUND, _("I can't find an order {number}.", number=number))


async def find_order(*, session: AsyncSession, text: str, user_id: int | None,
                     identity_id: int | None) -> Order:
    """The shopper's own order by its number. Someone else's reads exactly like one that
    does not exist (the same error, the same words)."""
    if user_id is None and identity_id is None:
        raise _missing(text)
    try:
        return await orders.find_by_number(session=session, text=text, user_id=user_id,
                                           identity_id=identity_id)
    except NotFound:
        raise _missing(text) from None


async def shopper_orders(*, session: AsyncSession, user_id: int | None,
                         identity_id: int | None, limit: int = 5) -> list[Order]:
    """The shopper's orders that have been sent out, newest first: what a return can be for."""
    if user_id is None and identity_id is None:
        return []
    owner = [Order.user_id == user_id] if user_id is not None else []
    if identity_id is not None:
        owner.append(Order.identity_id == identity_id)
    kinds = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.PARTIALLY_REFUNDED)
    rows = await session.scalars(
        select(Order).where(or_(*owner), Order.status.in_(kinds))
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(limit * 3))
    return [order for order in rows if sent_out(order)][:limit]


async def delivered_at(*, session: AsyncSession, order: Order) -> datetime | None:
    """When the order was marked delivered (its audit event); None while on its way."""
    for event in reversed(await orders.events(session=session, order=order)):
        if event.action == "order.status_changed" and event.data.get("to") == "delivered":
            return event.occurred_at
    return None


async def check_returnable(*, session: AsyncSession, order: Order, window_days: int,
                           at: datetime | None = None) -> None:
    """Refuse, with the reason, an order that was never sent or whose window has closed."""
    if not sent_out(order):
        raise Conflict(ReturnError.NOT_RETURNABLE, _(
            "Order {number} is {state}: only orders that have been sent can be returned.",
            number=order.number, state=LABELS[order.status]))
    arrived = await delivered_at(session=session, order=order)
    if arrived is not None and (at or now()) > arrived + timedelta(days=window_days):
        raise Conflict(ReturnError.WINDOW_CLOSED, _(
            "Order {number} was delivered on {day}. Returns are accepted for {days} days "
            "after delivery, so this one can't be returned any more.",
            number=order.number, day=f"{arrived:%d %b %Y}", days=window_days))


async def _spoken_for(session: AsyncSession, order: Order) -> dict[int, tuple[int, str]]:
    """Units per order line in returns under way, with the newest such return's number."""
    rows = await session.execute(
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity),
               func.max(ReturnRequest.number))
        .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
        .where(ReturnRequest.order_id == order.id, ReturnRequest.status.in_(OPEN))
        .group_by(ReturnLine.order_line_id))
    return {line_id: (int(units), str(number)) for line_id, units, number in rows}


async def returnable(*, session: AsyncSession, order: Order) -> dict[int, int]:
    """Units per order line still free to return: bought, less refunded, less those in a
    return under way."""
    taken = await _spoken_for(session, order)
    return {line.id: max(0, line.quantity - line.refunded_quantity -
                         taken.get(line.id, (0, ""))[0]) for line in order.lines}


async def check_units(session: AsyncSession, order: Order,
                         quantities: Mapping[int, int]) -> dict[int, int]:
    lines = {line.id: line for line in order.lines}
    taken = await _spoken_for(session, order)
    wanted: dict[int, int] = {}
    for line_id, units in quantities.items():
        line = lines.get(line_id)
        if line is None:
            raise InvalidInput(ReturnError.QUANTITY_INVALID,
                               _("That item is not on order {number}.", number=order.number))
        if isinstance(units, bool) or not isinstance(units, int) or units < 0:
            raise InvalidInput(ReturnError.QUANTITY_INVALID, _(
                "How many {name} to return must be a whole number.", name=line.name))
        if not units:
            continue
        busy, other = taken.get(line_id, (0, ""))
        free = line.quantity - line.refunded_quantity - busy
        if units > free and busy:
            raise Conflict(ReturnError.ALREADY_REQUESTED, _(
                "{name} from order {order} is already in return {number}; only {left} more "
                "can be returned.", name=line.name, order=order.number, number=other,
                left=max(free, 0)), number=other)
        if units > free:
            raise InvalidInput(ReturnError.QUANTITY_INVALID, _(
                "You bought {bought} of {name}; {left} can be returned.", name=line.name,
                bought=line.quantity, left=max(free, 0)))
        wanted[line_id] = units
    if not wanted:
        raise InvalidInput(ReturnError.QUANTITY_INVALID,
                           _("Choose at least one item to return."))
    return wanted


def reason_of(value: str) -> ReturnReason:
    try:
        return ReturnReason(value)
    except ValueError:
        raise InvalidInput(ReturnError.REASON_INVALID,
                           _("Please choose one of the reasons.")) from None


async def request(*, session: AsyncSession, order: Order, quantities: Mapping[int, int],
                  reason: str, details: str, chat_key: str, actor: Actor, vault: Vault,
                  window_days: int) -> ReturnRequest:
    """The shopper asks to return some units. Checked under the order's lock, so two
    requests for the same units (two taps, two chats) cannot both take them."""
    await orders.lock(session=session, order=order)
    await check_returnable(session=session, order=order, window_days=window_days)
    why = reason_of(reason)
    words = details.strip()
    if len(words) > MAX_DETAILS:
        raise InvalidInput(ReturnError.REASON_INVALID, _(
            "Please say it in at most {count} characters.", count=MAX_DETAILS))
    wanted = await check_units(session, order, quantities)
    number = _new_number()
    while await session.scalar(select(func.count()).where(ReturnRequest.number == number)):
        number = _new_number()
    ret = ReturnRequest(
        number=number, order_id=order.id, user_id=actor.user_id,
        identity_id=actor.identity_id, chat_key=chat_key[:160], reason=why,
        details_sealed=vault.seal({"text": words}) if words else None,
        lines=[ReturnLine(order_line_id=line_id, quantity=units)
               for line_id, units in sorted(wanted.items())])
    session.add(ret)
    await session.flush()
    await audit.record(session=session, actor=actor, action="return.requested",
                       subject_type="return", subject_id=ret.id,
                       data={"number": number, "order": order.number, "reason": why.value,
                             "lines": {str(k): v for k, v in wanted.items()}})
    return ret


def opened(sealed: str | None, vault: Vault) -> str:
    """Sealed free text as written; empty when none (or sealed with a key now gone)."""
    if not sealed:
        return ""
    try:
        return str(vault.open(sealed).get("text", ""))
    except ValueError:
        return ""


async def _locked(session: AsyncSession, return_id: int) -> ReturnRequest:
    await session.flush()
    ret = await session.get(ReturnRequest, return_id, with_for_update=True,
                            populate_existing=True)
    if ret is None:
        raise NotFound(ReturnError.NOT_FOUND, _("No such return."))
    return ret


async def add_photo(*, session: AsyncSession, return_id: int, image: CheckedImage,
                    storage: ImageStorage, actor: Actor) -> ReturnPhoto:
    """A checked picture (core.catalog.images.check_image) joins the return; the same
    picture sent twice is kept once."""
    ret = await _locked(session, return_id)
    if ret.status not in states.TAKES_PHOTOS:
        raise Conflict(ReturnError.PHOTO_INVALID, _(
            "Return {number} is {state}: it takes no more photos.", number=ret.number,
            state=states.label(ret.status)))
    key = storage.key_for(image)  # checked before anything is written: a refusal leaves no file
    existing = next((photo for photo in ret.photos if photo.storage_key == key), None)
    if existing is not None:
        return existing
    if len(ret.photos) >= MAX_PHOTOS:
        raise Conflict(ReturnError.PHOTO_INVALID, _(
            "Return {number} already has {count} photos, which is all it can take.",
            number=ret.number, count=MAX_PHOTOS))
    new_file = not storage.exists(key)  # the same picture may be another return's too
    storage.save(image)
    if new_file:
        photos.remove_on_rollback(session, storage, key)
    photo = ReturnPhoto(storage_key=key, content_type=image.content_type, width=image.width,
                        height=image.height, size_bytes=len(image.data))
    ret.photos.append(photo)
    await session.flush()
    await audit.record(session=session, actor=actor, action="return.photo_added",
                       subject_type="return", subject_id=ret.id,
                       data={"number": ret.number, "photo": photo.id})
    return photo


async def _order_of(session: AsyncSession, ret: ReturnRequest) -> Order:
    return await orders.get(session=session, order_id=ret.order_id)


def _answer(text: str, problem: str) -> str:
    """Staff's words for the shopper, 3 to MAX_ANSWER characters; else `problem`."""
    words = text.strip()
    if len(words) < 3 or len(words) > MAX_ANSWER:
        raise InvalidInput(ReturnError.REASON_INVALID, problem)
    return words


async def _moved(session: AsyncSession, ret: ReturnRequest, to: ReturnStatus, actor: Actor,
                 **data: object) -> None:
    before = ret.status
    states.check(before, to, ret.number)
    ret.status, ret.updated_at = to, now()
    await audit.record(session=session, actor=actor, action=f"return.{to.value}",
                       subject_type="return", subject_id=ret.id,
                       data={"number": ret.number, "from": before.value, "to": to.value,
                             **data})
    await session.flush()


async def approve(*, session: AsyncSession, return_id: int, instructions: str, actor: Actor,
                  vault: Vault) -> ReturnRequest:
    """Staff accept the return and say how to send it; done already: nothing happens."""
    ret = await _locked(session, return_id)
    if ret.status is ReturnStatus.APPROVED:
        return ret
    words = _answer(instructions, _(
        "Please write how to send the items back (3 to {most} characters).", most=MAX_ANSWER))
    states.check(ret.status, ReturnStatus.APPROVED, ret.number)
    ret.answer_sealed = vault.seal({"text": words})
    await _moved(session, ret, ReturnStatus.APPROVED, actor)
    await notices.approved(session, ret, (await _order_of(session, ret)).number, words)
    return ret


async def refuse(*, session: AsyncSession, return_id: int, reason: str, actor: Actor,
                 vault: Vault) -> ReturnRequest:
    """Staff turn the return down with a reason the shopper reads; done already: nothing."""
    ret = await _locked(session, return_id)
    if ret.status is ReturnStatus.REFUSED:
        return ret
    words = _answer(reason, _(
        "Please write why the return is refused (3 to {most} characters).", most=MAX_ANSWER))
    states.check(ret.status, ReturnStatus.REFUSED, ret.number)
    ret.answer_sealed = vault.seal({"text": words})
    await _moved(session, ret, ReturnStatus.REFUSED, actor)
    await notices.refused(session, ret, (await _order_of(session, ret)).number, words)
    return ret


async def receive(*, session: AsyncSession, return_id: int, restock: bool,
                  actor: Actor) -> ReturnRequest:
    """The parcel is back; with `restock` its units go on sale again (inventory's restock
    of a paid order's units, which never restocks a unit twice)."""
    ret = await _locked(session, return_id)
    if ret.status in (ReturnStatus.RECEIVED, ReturnStatus.REFUNDED):
        return ret
    states.check(ret.status, ReturnStatus.RECEIVED, ret.number)
    order = await _order_of(session, ret)
    restocked: dict[str, int] = {}
    if restock:
        lines = {line.id: line for line in order.lines}
        for item in ret.lines:
            line = lines[item.order_line_id]
            if line.product_id is not None:
                back = await inventory.restock_units(session=session, order_id=order.id,
                                                     product_id=line.product_id,
                                                     quantity=item.quantity)
                if back:
                    restocked[line.sku] = back
        ret.restocked = True
    await _moved(session, ret, ReturnStatus.RECEIVED, actor, restocked=restocked)
    await notices.received(session, ret)
    return ret


async def refund(*, session: AsyncSession, return_id: int, gateways: Mapping[str, Gateway],
                 actor: Actor) -> ReturnRequest:
    """Give the returned units' money back through the order's refund by lines (the
    gateway first: when it fails, nothing here changes and it can be tried again).
    Units staff already refunded by hand from the order are not refunded twice: they
    count at what they were worth, and a return whose units all were is simply done."""
    ret = await _locked(session, return_id)
    if ret.status is ReturnStatus.REFUNDED:
        return ret
    states.check(ret.status, ReturnStatus.REFUNDED, ret.number)
    order = await orders.lock(session=session, order=await _order_of(session, ret))
    lines = {line.id: line for line in order.lines}
    due, earlier = {}, {}
    for item in ret.lines:
        line = lines[item.order_line_id]
        due[line.id] = min(item.quantity, max(0, line.quantity - line.refunded_quantity))
        if item.quantity > due[line.id]:
            earlier[line.id] = item.quantity - due[line.id]
    before = order.refunded_minor
    if any(due.values()):
        await payments.refund_lines(
            session=session, order=order, gateways=gateways, actor=actor,
            quantities={line_id: units for line_id, units in due.items() if units},
            reason=f"return {ret.number}", restock=False)
    given = order.refunded_minor - before
    by_hand = line_refunds.units_value(order, earlier) if earlier else 0
    ret.refunded_minor = given + by_hand
    details: dict[str, object] = {"refunded_earlier_minor": by_hand, "refunded_earlier": {
        str(line_id): units for line_id, units in earlier.items()}} if earlier else {}
    await _moved(session, ret, ReturnStatus.REFUNDED, actor, amount_minor=ret.refunded_minor,
                 **details)
    if given:
        await notices.refunded(session, ret, order.currency)
    else:
        await notices.refunded_earlier(session, ret, order.currency)
    return ret


async def for_shopper(*, session: AsyncSession, user_id: int | None, identity_id: int | None,
                      limit: int = 5) -> list[tuple[ReturnRequest, Order]]:
    """A shopper's returns with their orders, newest first (an account's from every chat)."""
    if user_id is None and identity_id is None:
        return []
    owner = [Order.user_id == user_id] if user_id is not None else []
    if identity_id is not None:
        owner.append(Order.identity_id == identity_id)
    rows = await session.execute(
        select(ReturnRequest, Order).join(Order, Order.id == ReturnRequest.order_id)
        .where(or_(*owner)).order_by(ReturnRequest.created_at.desc(), ReturnRequest.id.desc())
        .limit(limit))
    return [(ret, order) for ret, order in rows]


async def for_order(*, session: AsyncSession, order_id: int) -> list[ReturnRequest]:
    rows = await session.scalars(select(ReturnRequest).where(ReturnRequest.order_id == order_id)
                                 .order_by(ReturnRequest.id))
    return list(rows)


async def get(*, session: AsyncSession, return_id: int) -> ReturnRequest:
    ret = await session.get(ReturnRequest, return_id)
    if ret is None:
        raise NotFound(ReturnError.NOT_FOUND, _("No such return."))
    return ret


async def search(*, session: AsyncSession, status: ReturnStatus | None = None, page: int = 1,
                 per_page: int = PER_PAGE) -> Paged[ReturnRequest]:
    """Returns for staff: the oldest waiting first when filtered, else the newest first."""
    query = select(ReturnRequest)
    if status is not None:
        query = query.where(ReturnRequest.status == status).order_by(
            ReturnRequest.created_at, ReturnRequest.id)
    else:
        query = query.order_by(ReturnRequest.created_at.desc(), ReturnRequest.id.desc())
    return await paged(session, query, page=page, per_page=per_page)


async def waiting_count(*, session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(
        ReturnRequest.status == ReturnStatus.REQUESTED)) or 0)
