"""Payment use cases: a link for an order, gateway events applied once, and the money side
of cancelling or shipping. Every change writes its audit event and, where the shopper
should hear of it, a message to their chat, in the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import service as audit
from core.audit.actor import Actor
from core.crypto import Vault
from core.errors import Conflict
from core.inventory import service as inventory
from core.money import format_amount
from core.orders import line_refunds, notices
from core.orders import service as orders
from core.orders.errors import OrderError
from core.orders.models import Order
from core.orders.states import CAPTURED, NOT_SHIPPED, OrderStatus
from core.payments.errors import PaymentError
from core.payments.gateway import EventKind, Gateway, GatewayDown, GatewayEvent, GatewayRefused
from core.payments.models import Payment, PaymentStatus
from core.webhooks import receipts

log = logging.getLogger("chatcart.payments")
OPEN = (PaymentStatus.CREATED, PaymentStatus.FAILED)


async def _record(session: AsyncSession, actor: Actor, action: str, payment: Payment,
                  **data: object) -> None:
    await audit.record(session=session, actor=actor, action=action, subject_type="order",
                       subject_id=payment.order_id,
                       data={"payment_id": payment.id, "gateway": payment.gateway, **data})


async def start(*, session: AsyncSession, order: Order, gateway: Gateway, capture: bool,
                actor: Actor) -> Payment:
    """The order's payment link at `gateway`; the link already made is reused."""
    # A real gateway's failed or expired page can't be paid again: a new one is made.
    reusable = OPEN if gateway.is_test else (PaymentStatus.CREATED,)
    existing = await session.scalar(
        select(Payment).where(Payment.order_id == order.id, Payment.gateway == gateway.name,
                              Payment.status.in_(reusable), Payment.url.is_not(None))
        .order_by(Payment.id.desc()).limit(1))
    if existing is not None:
        return existing
    payment = Payment(order_id=order.id, gateway=gateway.name, amount_minor=order.total_minor,
                      currency=order.currency,
                      capture_mode="immediate" if capture else "at_shipment")
    session.add(payment)
    await session.flush()
    try:
        link = await gateway.create_link(order=order, payment=payment, capture=capture)
    except GatewayDown:
        raise Conflict(PaymentError.GATEWAY_UNAVAILABLE,
                       "The payment service didn't answer. Please try again in a moment; "
                       "nothing was charged.") from None
    except GatewayRefused as refused:
        raise Conflict(PaymentError.GATEWAY_REFUSED, str(refused)) from None
    payment.reference, payment.intent, payment.url = link.reference, link.intent, link.url
    await _record(session, actor, "payment.link_created", payment,
                  amount_minor=payment.amount_minor, currency=payment.currency)
    return payment


async def apply_event(*, session: AsyncSession, event: GatewayEvent, gateway: Gateway,
                      vault: Vault) -> str:
    """Apply a verified gateway event once; returns what happened, for the log.

    Replays change nothing (the event id is claimed with the change). Events may come in
    any order: a refund before the payment it refunds implies that payment.
    """
    which = (Payment.reference == event.reference) if event.reference else (
        Payment.intent == event.intent)
    payment = await session.scalar(
        select(Payment).where(Payment.gateway == event.gateway, which,
                              Payment.reference.is_not(None))
        .order_by(Payment.id.desc()).limit(1)) if (event.reference or event.intent) else None
    if payment is None:
        # Not claimed: a refund can overtake the event that names its PaymentIntent, and
        # the gateway's retry then finds it.
        log.warning("payment.unknown_reference gateway=%s event=%s", event.gateway,
                    event.event_id)
        return "unknown"
    if not await receipts.claim(session=session, source=f"payment:{event.gateway}",
                                event_id=event.event_id):
        return "duplicate"
    # Locks in one order everywhere (the order, then its payments): no deadlocks with a
    # cancel or a capture running at the same moment.
    order = await orders.lock(session=session, order=await orders.get(
        session=session, order_id=payment.order_id))
    await session.refresh(payment, with_for_update=True)
    actor = Actor.system(f"{event.gateway} event")
    if event.intent and not payment.intent:
        payment.intent = event.intent
    if event.kind is EventKind.APPROVED:
        if payment.status not in OPEN or order.status is not OrderStatus.PENDING_PAYMENT:
            return "approved_known"
        capture = payment.capture_mode == "immediate"
        result = await _complete(gateway, payment, capture)
        if result is None:
            return "approved"
        if result.intent:
            payment.intent = result.intent
        event = result
    if event.kind in (EventKind.PAID, EventKind.AUTHORIZED) and (
            event.amount_minor != payment.amount_minor or
            (event.currency or "").upper() != payment.currency):
        return await _mismatch(session, order, payment, gateway, event, actor)
    if event.kind is EventKind.AUTHORIZED:
        return await _authorized(session, order, payment, gateway, vault, actor)
    if event.kind is EventKind.PAID:
        return await _paid(session, order, payment, gateway, vault, actor)
    if event.kind is EventKind.FAILED:
        if payment.status is PaymentStatus.CREATED:
            payment.status = PaymentStatus.FAILED
            await _record(session, actor, "payment.failed", payment)
            if order.status is OrderStatus.PENDING_PAYMENT:
                await notices.payment_failed(session, order, f"payment-{payment.id}")
        return "failed"
    return await _refunded(session, order, payment, event.amount_minor or 0, vault, actor)


async def _mismatch(session: AsyncSession, order: Order, payment: Payment, gateway: Gateway,
                    event: GatewayEvent, actor: Actor) -> str:
    """Money for another amount or currency than the order's: it goes back, the order waits."""
    log.error("payment.amount_mismatch gateway=%s payment=%s expected=%s got=%s %s",
              payment.gateway, payment.id, payment.amount_minor, event.amount_minor,
              event.currency)
    if payment.status in OPEN:
        if event.kind is EventKind.AUTHORIZED:
            await _call(gateway.void(payment=payment))
            payment.status = PaymentStatus.VOIDED
        elif event.amount_minor:
            await _call(gateway.refund(payment=payment, amount_minor=event.amount_minor))
            payment.captured_minor = payment.refunded_minor = event.amount_minor
            payment.status = PaymentStatus.REFUNDED
        await notices.payment_returned(session, order, f"payment-{payment.id}")
    await _record(session, actor, "payment.amount_mismatch", payment,
                  expected=payment.amount_minor, got=event.amount_minor,
                  currency=event.currency)
    return "mismatch"


async def _authorized(session: AsyncSession, order: Order, payment: Payment, gateway: Gateway,
                      vault: Vault, actor: Actor) -> str:
    if payment.status in OPEN:
        payment.status = PaymentStatus.AUTHORIZED
        await _record(session, actor, "payment.authorized", payment,
                      amount_minor=payment.amount_minor)
    if order.status is OrderStatus.PENDING_PAYMENT:
        await orders.mark_authorized(session=session, order=order, actor=actor,
                                     reference=payment.reference or "")
        await notices.confirmed(session, order, vault, authorized=True, test=gateway.is_test)
        return "authorized"
    if order.status is OrderStatus.CANCELLED and payment.status is PaymentStatus.AUTHORIZED:
        await _call(gateway.void(payment=payment))   # too late: let the hold go
        payment.status = PaymentStatus.VOIDED
        await _record(session, actor, "payment.voided", payment, reason="order_cancelled")
        await notices.late_payment_returned(session, order, f"payment-{payment.id}")
    return "authorized"


async def _paid(session: AsyncSession, order: Order, payment: Payment, gateway: Gateway,
                vault: Vault, actor: Actor) -> str:
    was_pending = order.status is OrderStatus.PENDING_PAYMENT
    if payment.status in (*OPEN, PaymentStatus.AUTHORIZED):
        payment.status = PaymentStatus.CAPTURED
        payment.captured_minor = payment.amount_minor
        await _record(session, actor, "payment.captured", payment,
                      amount_minor=payment.amount_minor)
    if order.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.AUTHORIZED):
        await orders.mark_paid(session=session, order=order, actor=actor,
                               reference=payment.reference or "")
        if was_pending:
            await notices.confirmed(session, order, vault, authorized=False,
                                    test=gateway.is_test)
        return "paid"
    if order.status is OrderStatus.CANCELLED and payment.refunded_minor < payment.captured_minor:
        amount = payment.captured_minor - payment.refunded_minor
        await _call(gateway.refund(payment=payment, amount_minor=amount))
        payment.refunded_minor = payment.captured_minor
        payment.status = PaymentStatus.REFUNDED
        await _record(session, actor, "payment.refunded", payment, amount_minor=amount,
                      reason="order_cancelled")
        await notices.late_payment_returned(session, order, f"payment-{payment.id}")
    return "paid"


async def _refunded(session: AsyncSession, order: Order, payment: Payment, total_minor: int,
                    vault: Vault, actor: Actor) -> str:
    """`total_minor` is the payment's refunded total so far, as the gateway reports it."""
    if payment.status in (PaymentStatus.AUTHORIZED, PaymentStatus.VOIDED):
        # A hold released (Stripe reports a cancelled authorization as a refund): no money
        # was taken, so nothing is refunded; an order still waiting on it is cancelled.
        if payment.status is PaymentStatus.AUTHORIZED:
            payment.status = PaymentStatus.VOIDED
            await _record(session, actor, "payment.voided", payment, reason="released")
            if order.status is OrderStatus.AUTHORIZED:
                await orders.cancel(session=session, order=order, actor=actor,
                                    reason="payment hold released at the gateway")
                await notices.cancelled(session, order, 0)
        return "released"
    if payment.captured_minor == 0:  # the refund overtook the payment event: it was paid
        payment.captured_minor = payment.amount_minor
        payment.status = PaymentStatus.CAPTURED
        if order.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.AUTHORIZED):
            await orders.mark_paid(session=session, order=order, actor=actor,
                                   reference=payment.reference or "")
    total = min(total_minor, payment.captured_minor)
    delta = total - payment.refunded_minor
    if delta <= 0:
        return "refund_known"
    payment.refunded_minor = total
    payment.status = (PaymentStatus.REFUNDED if total == payment.captured_minor
                      else PaymentStatus.PARTIALLY_REFUNDED)
    await _record(session, actor, "payment.refunded", payment, amount_minor=delta)
    if order.status in CAPTURED and order.refunded_minor < order.total_minor:
        await orders.record_refund(session=session, order=order, actor=actor,
                                   amount_minor=min(delta, order.total_minor -
                                                    order.refunded_minor),
                                   reason=f"refund at {payment.gateway}")
        await notices.refunded(session, order, delta)
    return "refunded"


async def cancel_order(*, session: AsyncSession, order: Order, gateways: Mapping[str, Gateway],
                       actor: Actor, reason: str, notify: bool = True) -> int:
    """Cancel before shipment: stock returns, a hold is released, money taken is refunded.

    Returns the amount refunded. If the gateway fails, nothing here changes (the caller's
    transaction rolls back) and the same cancel can simply be tried again. `notify` queues
    a message to the shopper's chat (not needed when they cancelled in that chat).
    """
    await orders.lock(session=session, order=order)
    if not unshipped(order):
        raise Conflict(OrderError.ILLEGAL_TRANSITION,
                       f"Order {order.number} has already left the warehouse, so it can't be "
                       "cancelled; a return can be arranged instead.")
    refunded = 0
    for payment in await session.scalars(
            select(Payment).where(Payment.order_id == order.id).with_for_update()):
        gateway = gateways.get(payment.gateway)
        if gateway is None and payment.status in (
                PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED,
                PaymentStatus.PARTIALLY_REFUNDED):
            raise Conflict(PaymentError.GATEWAY_UNAVAILABLE,
                           f"The payment for order {order.number} was made with "
                           f"{payment.gateway}, which this shop no longer uses; a person "
                           "needs to refund it.")
        if payment.status is PaymentStatus.CREATED and gateway is not None:
            await _call(gateway.close(payment=payment))  # its page can't be paid any more
        if payment.status is PaymentStatus.AUTHORIZED and gateway is not None:
            await _call(gateway.void(payment=payment))
            payment.status = PaymentStatus.VOIDED
            await _record(session, actor, "payment.voided", payment, reason=reason)
        elif payment.status in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED) and (
                gateway is not None):
            amount = payment.captured_minor - payment.refunded_minor
            await _call(gateway.refund(payment=payment, amount_minor=amount))
            payment.refunded_minor = payment.captured_minor
            payment.status = PaymentStatus.REFUNDED
            refunded += amount
            await _record(session, actor, "payment.refunded", payment, amount_minor=amount,
                          reason=reason)
        elif payment.status is PaymentStatus.CREATED:
            payment.status = PaymentStatus.FAILED
    if order.status in CAPTURED and refunded:
        await orders.record_refund(session=session, order=order, actor=actor,
                                   amount_minor=order.total_minor - order.refunded_minor,
                                   reason=reason)
    else:
        await orders.cancel(session=session, order=order, actor=actor, reason=reason)
    if notify:
        await notices.cancelled(session, order, refunded)
    return refunded


async def _refundable(session: AsyncSession, order: Order, gateways: Mapping[str, Gateway],
                      amount_minor: int, seen_refunded_minor: int | None) -> Payment:
    """Under the order's lock (the caller's): the payment a refund of `amount_minor` comes
    from, else why not. `seen_refunded_minor` is what the staff member's page showed as
    refunded: when the order has moved since (the same form sent twice), nothing is given
    back twice."""
    if seen_refunded_minor is not None and seen_refunded_minor != order.refunded_minor:
        raise Conflict(PaymentError.ORDER_CHANGED,
                       f"Order {order.number} changed since the page was opened (refunded "
                       f"so far: {format_amount(order.refunded_minor, order.currency)}). "
                       "Look at it again before refunding.")
    payment = await session.scalar(
        select(Payment).where(Payment.order_id == order.id, Payment.status.in_(
            (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED))).with_for_update())
    if payment is None or payment.gateway not in gateways:
        raise Conflict(PaymentError.NOTHING_TO_REFUND,
                       f"Order {order.number} has no payment here that can be refunded.")
    room = min(payment.captured_minor - payment.refunded_minor,
               order.total_minor - order.refunded_minor)
    if isinstance(amount_minor, bool) or not 0 < amount_minor <= room:
        raise Conflict(PaymentError.NOTHING_TO_REFUND,
                       f"A refund for order {order.number} must be more than zero and at "
                       f"most {format_amount(room, order.currency)}.")
    return payment


async def _give_back(session: AsyncSession, order: Order, payment: Payment, amount_minor: int,
                     gateways: Mapping[str, Gateway], actor: Actor, reason: str,
                     **details: object) -> None:
    """The gateway first: when it fails, the caller's transaction rolls everything back."""
    await _call(gateways[payment.gateway].refund(payment=payment, amount_minor=amount_minor))
    payment.refunded_minor += amount_minor
    payment.status = (PaymentStatus.REFUNDED if payment.refunded_minor == payment.captured_minor
                      else PaymentStatus.PARTIALLY_REFUNDED)
    await _record(session, actor, "payment.refunded", payment, amount_minor=amount_minor,
                  reason=reason[:200], **details)
    await orders.record_refund(session=session, order=order, amount_minor=amount_minor,
                               actor=actor, reason=reason)
    await notices.refunded(session, order, amount_minor)


async def refund(*, session: AsyncSession, order: Order, amount_minor: int,
                 gateways: Mapping[str, Gateway], actor: Actor, reason: str,
                 seen_refunded_minor: int | None = None) -> Order:
    """Give back all or part of what was taken (a return, a goodwill refund) at the gateway,
    then on the order. A gateway failure changes nothing here, so it can be retried."""
    await orders.lock(session=session, order=order)
    payment = await _refundable(session, order, gateways, amount_minor, seen_refunded_minor)
    await _give_back(session, order, payment, amount_minor, gateways, actor, reason)
    return order


async def refund_lines(*, session: AsyncSession, order: Order, quantities: Mapping[int, int],
                       gateways: Mapping[str, Gateway], actor: Actor, reason: str,
                       restock: bool = False, seen_refunded_minor: int | None = None) -> Order:
    """Refund some units of some lines (line id -> units), worth what `line_refunds` says.
    Units that never left go back on the shelf; returned ones too when `restock` (staff
    judged them fit to sell). Everything is checked before anything changes."""
    await orders.lock(session=session, order=order)
    wanted = line_refunds.check(order, quantities)
    amount = line_refunds.worth(order, wanted)
    payment = await _refundable(session, order, gateways, amount, seen_refunded_minor)
    restocked: dict[str, int] = {}
    if restock or unshipped(order):  # before the refund, which may restock the rest
        for line in order.lines:
            if line.product_id is not None and line.id in wanted:
                back = await inventory.restock_units(session=session, order_id=order.id,
                                                     product_id=line.product_id,
                                                     quantity=wanted[line.id])
                if back:
                    restocked[line.sku] = back
    line_refunds.take_back(order, wanted)
    units = {line.sku: wanted[line.id] for line in order.lines if line.id in wanted}
    await _give_back(session, order, payment, amount, gateways, actor, reason, lines=units,
                     restocked=restocked)
    return order


async def close_open(*, session: AsyncSession, order_id: int,
                     gateways: Mapping[str, Gateway]) -> int:
    """An expired order's payment pages stop taking money (best effort: a page that still
    takes a payment is refunded when its event arrives). Returns how many were closed."""
    closed = 0
    for payment in await session.scalars(select(Payment).where(
            Payment.order_id == order_id, Payment.status == PaymentStatus.CREATED)):
        gateway = gateways.get(payment.gateway)
        try:
            if gateway is not None:
                await gateway.close(payment=payment)
        except (GatewayDown, GatewayRefused) as problem:
            log.warning("payment.close_failed payment=%s error=%s", payment.id,
                        type(problem).__name__)
            continue
        payment.status = PaymentStatus.FAILED
        closed += 1
    return closed


def unshipped(order: Order) -> bool:
    """Whether the goods are still here (a partial refund keeps the order where it was)."""
    return order.status in NOT_SHIPPED or (
        order.status is OrderStatus.PARTIALLY_REFUNDED and
        order.status_before_refund in NOT_SHIPPED)


async def ship(*, session: AsyncSession, order: Order, gateways: Mapping[str, Gateway],
               actor: Actor, carrier: str, tracking_number: str) -> Order:
    """Ship an order, taking an authorized payment first: goods never leave unpaid."""
    await orders.lock(session=session, order=order)
    if order.status is OrderStatus.AUTHORIZED:
        await capture(session=session, order=order, gateways=gateways, actor=actor)
    await orders.ship(session=session, order=order, actor=actor, carrier=carrier,
                      tracking_number=tracking_number)
    await notices.shipped(session, order, carrier.strip(), tracking_number.strip())
    return order


async def capture(*, session: AsyncSession, order: Order, gateways: Mapping[str, Gateway],
                  actor: Actor) -> None:
    """Take an authorized payment (at shipment)."""
    await orders.lock(session=session, order=order)
    payment = await session.scalar(
        select(Payment).where(Payment.order_id == order.id,
                              Payment.status == PaymentStatus.AUTHORIZED).with_for_update())
    if payment is None or payment.gateway not in gateways:
        raise Conflict(PaymentError.NOT_CAPTURABLE, "There is no authorized payment to take.")
    await _call(gateways[payment.gateway].capture(payment=payment))
    payment.status, payment.captured_minor = PaymentStatus.CAPTURED, payment.amount_minor
    await _record(session, actor, "payment.captured", payment, amount_minor=payment.amount_minor)
    await orders.mark_paid(session=session, order=order, actor=actor,
                           reference=payment.reference or "")


async def _complete(gateway: Gateway, payment: Payment, capture: bool) -> GatewayEvent | None:
    try:
        return await gateway.complete(payment=payment, capture=capture)
    except GatewayDown:
        raise Conflict(PaymentError.GATEWAY_UNAVAILABLE,
                       "The payment service didn't answer.") from None
    except GatewayRefused as refused:
        raise Conflict(PaymentError.GATEWAY_REFUSED, str(refused)) from None


async def _call(request: object) -> None:
    try:
        await request  # type: ignore[misc]
    except GatewayDown:
        raise Conflict(PaymentError.GATEWAY_UNAVAILABLE,
                       "The payment service didn't answer. Please try again in a moment.") \
            from None
    except GatewayRefused as refused:
        raise Conflict(PaymentError.GATEWAY_REFUSED, str(refused)) from None
