"""Order use cases: place from a cart, move through the state machine, refund, expire.

`transition` is the one door every status change goes through: it checks the state
machine, applies the stock side effect, and writes the audit event, in the caller's
transaction.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import throttle
from core.audit import service as audit
from core.audit.actor import Actor
from core.audit.models import AuditEvent
from core.carts import service as carts
from core.carts.models import Cart
from core.clock import now
from core.errors import Conflict, InvalidInput, NotFound
from core.inventory import service as inventory
from core.inventory.models import ReservationStatus
from core.orders import notices, states
from core.orders.errors import OrderError
from core.orders.models import Order, OrderLine
from core.orders.numbers import new_number, parse_number
from core.orders.states import NOT_SHIPPED, OrderStatus
from core.paging import PER_PAGE, Paged, paged


async def _unused_number(session: AsyncSession) -> str:
    while True:
        number = new_number()
        if not await session.scalar(select(func.count()).where(Order.number == number)):
            return number


async def place_order(
    *, session: AsyncSession, cart: Cart, actor: Actor, reservation_minutes: int,
    email: str | None = None, expected_total_minor: int | None = None,
    shipping_minor: int = 0, tax_minor: int = 0,
) -> Order:
    """Turn the cart into an order awaiting payment, with its stock held until it is due.

    Prices are read again here; when the shopper approved a different total, nothing is
    placed and the error says so. Any line short of stock fails the whole order.
    """
    view = await carts.view(session=session, cart=cart)
    if view.is_empty:
        raise InvalidInput(OrderError.CART_EMPTY, "Your cart is empty.")
    if view.problems:
        raise Conflict(OrderError.CART_HAS_PROBLEMS, " ".join(view.problems),
                       problems=view.problems)
    if shipping_minor < 0 or tax_minor < 0:
        raise InvalidInput(OrderError.REFUND_INVALID, "Shipping and tax cannot be negative.")
    subtotal = view.subtotal.amount
    total = subtotal + shipping_minor + tax_minor
    if expected_total_minor is not None and expected_total_minor != total:
        raise Conflict(OrderError.PRICES_CHANGED,
                       "Prices changed since you reviewed your order; please check it again.",
                       total_minor=total)
    placed_at = now()
    due = placed_at + timedelta(minutes=reservation_minutes)
    order = Order(
        number=await _unused_number(session), user_id=cart.user_id,
        identity_id=actor.identity_id, email=email, channel=str(actor.channel),
        status=OrderStatus.PENDING_PAYMENT, currency=view.currency, subtotal_minor=subtotal,
        shipping_minor=shipping_minor, tax_minor=tax_minor, total_minor=total,
        created_at=placed_at, payment_due_at=due,
        lines=[OrderLine(product_id=line.product_id, sku=line.sku, name=line.name,
                         unit_price_minor=line.unit_price.amount, quantity=line.quantity)
               for line in view.lines],
    )
    session.add(order)
    await session.flush()
    # A fixed order of products keeps concurrent checkouts from deadlocking on row locks.
    for line in sorted(order.lines, key=lambda item: item.product_id or 0):
        assert line.product_id is not None
        await inventory.reserve(session=session, order_id=order.id, product_id=line.product_id,
                                quantity=line.quantity, expires_at=due, product_name=line.name)
    await carts.clear(session=session, cart=cart)
    await audit.record(session=session, actor=actor, action="order.placed",
                       subject_type="order", subject_id=order.id,
                       data={"number": order.number, "total_minor": total,
                             "currency": order.currency, "items": view.item_count})
    return order


async def lock(*, session: AsyncSession, order: Order) -> Order:
    """Re-read the order under a row lock (PostgreSQL) before deciding on its status, so a
    payment event and the expiry sweeper, say, never both act on what they read. Changes
    not yet written are flushed first: the re-read would otherwise drop them."""
    await session.flush()
    await session.refresh(order, with_for_update=True)
    return order


async def transition(
    *, session: AsyncSession, order: Order, to: OrderStatus, actor: Actor,
    data: dict[str, Any] | None = None,
) -> Order:
    """Move an order to `to`: the state machine decides, stock follows, the event is written."""
    before = order.status
    states.check(before, to, before_refund=order.status_before_refund, number=order.number)
    if to in (OrderStatus.AUTHORIZED, OrderStatus.PAID) and before is OrderStatus.PENDING_PAYMENT:
        await inventory.commit_order(session=session, order_id=order.id)
    # Goods that never left go back on sale, whether cancelled or refunded in full.
    unshipped = before in NOT_SHIPPED or (before is OrderStatus.PARTIALLY_REFUNDED and
                                          order.status_before_refund in NOT_SHIPPED)
    if to in (OrderStatus.CANCELLED, OrderStatus.REFUNDED) and unshipped:
        await inventory.release_order(session=session, order_id=order.id)
        await inventory.restock_order(session=session, order_id=order.id)
    if to is OrderStatus.PARTIALLY_REFUNDED and before is not OrderStatus.PARTIALLY_REFUNDED:
        order.status_before_refund = before
    elif to in states.FULFILMENT:
        order.status_before_refund = None
    order.status = to
    order.updated_at = now()
    if to is not OrderStatus.PENDING_PAYMENT:
        order.payment_due_at = None
    await audit.record(session=session, actor=actor, action="order.status_changed",
                       subject_type="order", subject_id=order.id,
                       data={"number": order.number, "from": before.value, "to": to.value,
                             **(data or {})})
    await session.flush()
    return order


async def mark_paid(*, session: AsyncSession, order: Order, actor: Actor,
                    reference: str = "") -> Order:
    """Payment captured. Idempotent: a repeated gateway event changes nothing."""
    await lock(session=session, order=order)
    if order.status in states.CAPTURED or order.status is OrderStatus.REFUNDED:
        return order
    return await transition(session=session, order=order, to=OrderStatus.PAID, actor=actor,
                            data={"reference": reference} if reference else None)


async def mark_authorized(*, session: AsyncSession, order: Order, actor: Actor,
                          reference: str = "") -> Order:
    """Payment authorized, to be captured later. Idempotent like `mark_paid`."""
    await lock(session=session, order=order)
    if order.status is OrderStatus.AUTHORIZED:
        return order
    return await transition(session=session, order=order, to=OrderStatus.AUTHORIZED, actor=actor,
                            data={"reference": reference} if reference else None)


async def ship(*, session: AsyncSession, order: Order, actor: Actor, carrier: str,
               tracking_number: str) -> Order:
    if not carrier.strip() or not tracking_number.strip():
        raise InvalidInput(OrderError.ILLEGAL_TRANSITION,
                           "Shipping needs a carrier and a tracking number.")
    await lock(session=session, order=order)
    return await transition(session=session, order=order, to=OrderStatus.SHIPPED, actor=actor,
                            data={"carrier": carrier.strip()[:60],
                                  "tracking_number": tracking_number.strip()[:80]})


async def cancel(*, session: AsyncSession, order: Order, actor: Actor, reason: str) -> Order:
    await lock(session=session, order=order)
    return await transition(session=session, order=order, to=OrderStatus.CANCELLED, actor=actor,
                            data={"reason": reason.strip()[:200]})


async def record_refund(*, session: AsyncSession, order: Order, amount_minor: int, actor: Actor,
                        reason: str = "") -> Order:
    """Money returned to the shopper: full refunds close the order, partial ones keep it going."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise InvalidInput(OrderError.REFUND_INVALID, "A refund must be more than zero.")
    await lock(session=session, order=order)
    remaining = order.total_minor - order.refunded_minor
    if amount_minor > remaining:
        raise InvalidInput(OrderError.REFUND_INVALID,
                           f"At most {order.refundable} can still be refunded.")
    target = (OrderStatus.REFUNDED if amount_minor == remaining
              else OrderStatus.PARTIALLY_REFUNDED)
    states.check(order.status, target, before_refund=order.status_before_refund,
                 number=order.number)
    order.refunded_minor += amount_minor
    return await transition(session=session, order=order, to=target, actor=actor,
                            data={"amount_minor": amount_minor, "reason": reason.strip()[:200]})


async def expire_unpaid(*, session: AsyncSession, at: datetime | None = None) -> list[Order]:
    """Cancel orders whose payment window closed; their stock goes back on sale."""
    expired = []
    for order_id in await inventory.orders_with_expired_reservations(session=session, at=at):
        order = await session.get(Order, order_id, with_for_update=True)
        if order is None:
            continue
        await inventory.release_order(session=session, order_id=order_id,
                                      as_status=ReservationStatus.EXPIRED)
        if order.status is not OrderStatus.PENDING_PAYMENT:
            continue  # paid or closed meanwhile: only stray holds were left to let go
        await transition(session=session, order=order, to=OrderStatus.CANCELLED,
                         actor=Actor.system("reservation expiry"),
                         data={"reason": "payment_expired"})
        await notices.payment_expired(session, order)
        expired.append(order)
    return expired


async def get(*, session: AsyncSession, order_id: int) -> Order:
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound(OrderError.NOT_FOUND, "No such order.")
    return order


async def find_by_number(
    *, session: AsyncSession, text: str, user_id: int | None = None,
    identity_id: int | None = None,
) -> Order:
    """An order by the number the shopper typed; only their own when an owner is given."""
    number = parse_number(text)
    if number is None:
        raise InvalidInput(OrderError.NUMBER_INVALID,
                           "Order numbers look like CC-7KX3MQ.")
    query = select(Order).where(Order.number == number)
    if user_id is not None or identity_id is not None:
        query = query.where(_owned_by(user_id, identity_id))
    order = await session.scalar(query)
    if order is None:
        raise NotFound(OrderError.NOT_FOUND, f"I can't find an order {number}.",
                       number=number)
    return order


GUESSES_PER_PAIR, GUESSES_PER_ASKER = 3, 10   # free wrong guesses before the slowing


async def find_for_guest(*, session: AsyncSession, text: str, email: str,
                         asker: str) -> Order:
    """An order followed from any chat by its number plus the email given at checkout, as
    a guest's receipt says. Wrong pairs are counted per pair and per asker (a chat) and
    slowed down (core.accounts.throttle), so addresses cannot be tried in bulk; the order
    number alone is no key, so guessing at someone's order never locks its owner out. A
    wrong address reads exactly like a missing order."""
    number = parse_number(text)
    if number is None:
        raise InvalidInput(OrderError.NUMBER_INVALID, "Order numbers look like CC-7KX3MQ.")
    given = email.strip().lower()
    pair = hashlib.sha256(f"{number}|{given}".encode("utf-8", "surrogatepass")).hexdigest()
    keys = [(f"order-pair:{pair}", GUESSES_PER_PAIR),
            (f"order-asker:{hashlib.sha256(asker.encode()).hexdigest()}", GUESSES_PER_ASKER)]
    if (seconds := await throttle.wait_for(session=session, keys=keys)) > 0:
        raise Conflict(OrderError.LOOKUP_SLOWED,
                       f"Too many tries: please wait {seconds} seconds and try again.",
                       seconds=seconds)
    order = await session.scalar(select(Order).where(Order.number == number))
    kept = (order.email or "").strip().lower() if order is not None else ""
    if order is None or not kept or not hmac.compare_digest(
            given.encode("utf-8", "surrogatepass"), kept.encode()):
        await throttle.failed_for(session=session, keys=keys)
        raise NotFound(OrderError.NOT_FOUND, f"I can't find an order {number}.",
                       number=number)
    return order


async def confirmed_in_chat(*, session: AsyncSession, chat_key: str) -> bool:
    """Whether this chat has placed an order that was confirmed (paid or authorized): the
    web chat offers order updates in the browser only then."""
    confirmed = states.CAPTURED | {OrderStatus.AUTHORIZED}
    found = await session.scalar(select(Order.id).where(
        Order.chat_key == chat_key, Order.status.in_(confirmed)).limit(1))
    return found is not None


def _owned_by(user_id: int | None, identity_id: int | None) -> Any:
    conditions = []
    if user_id is not None:
        conditions.append(Order.user_id == user_id)
    if identity_id is not None:
        conditions.append(Order.identity_id == identity_id)
    return or_(*conditions)


async def history(
    *, session: AsyncSession, user_id: int | None = None, identity_id: int | None = None,
    limit: int = 10, offset: int = 0,
) -> list[Order]:
    """A shopper's orders, newest first (an account's from every chat, or a guest's own)."""
    if user_id is None and identity_id is None:
        return []
    rows = await session.scalars(
        select(Order).where(_owned_by(user_id, identity_id))
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(limit).offset(offset))
    return list(rows)


async def events(*, session: AsyncSession, order: Order) -> list[AuditEvent]:
    return await audit.history(session=session, subject_type="order", subject_id=order.id)


async def search(*, session: AsyncSession, status: OrderStatus | None = None, text: str = "",
                 channel: str = "", since: datetime | None = None,
                 until: datetime | None = None, customer_id: int | None = None,
                 page: int = 1, per_page: int = PER_PAGE) -> Paged[Order]:
    """Orders for staff, newest first: by status, channel, customer account and dates
    (placed at or after `since`, before `until`), and by number or email (part of it)."""
    query = select(Order)
    if status is not None:
        query = query.where(Order.status == status)
    if channel:
        query = query.where(Order.channel == channel[:16])
    if customer_id is not None:
        query = query.where(Order.user_id == customer_id)
    if since is not None:
        query = query.where(Order.created_at >= since)
    if until is not None:
        query = query.where(Order.created_at < until)
    words = text.strip()[:100]
    if words:
        number = parse_number(words)
        email = func.lower(Order.email).contains(words.lower(), autoescape=True)
        query = query.where(or_(Order.number == number, email) if number else email)
    return await paged(session, query.order_by(Order.created_at.desc(), Order.id.desc()),
                       page=page, per_page=per_page)


async def advance(*, session: AsyncSession, order: Order, to: OrderStatus,
                  actor: Actor) -> Order:
    """A staff step in fulfilment (being prepared, delivered), under the order's lock."""
    if to not in (OrderStatus.PROCESSING, OrderStatus.DELIVERED):
        raise InvalidInput(OrderError.ILLEGAL_TRANSITION,
                           "Only 'being prepared' and 'delivered' are set by hand.")
    await lock(session=session, order=order)
    await transition(session=session, order=order, to=to, actor=actor)
    if to is OrderStatus.PROCESSING:
        await notices.preparing(session, order)
    else:
        await notices.delivered(session, order)
    return order
