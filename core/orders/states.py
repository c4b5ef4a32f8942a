"""The order state machine: every allowed move is listed here and nowhere else."""

from __future__ import annotations

from enum import StrEnum

from core.errors import Conflict
from core.orders.errors import OrderError


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    AUTHORIZED = "authorized"          # paid by authorization; captured later (at shipment)
    PAID = "paid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.AUTHORIZED, S.PAID, S.CANCELLED}),
    # Money is held, not taken: fulfilment starts once it is captured (payments.ship
    # captures first), so every state past PAID means the money is ours.
    S.AUTHORIZED: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.PROCESSING, S.SHIPPED, S.CANCELLED, S.REFUNDED,
                       S.PARTIALLY_REFUNDED}),
    S.PROCESSING: frozenset({S.SHIPPED, S.CANCELLED, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.DELIVERED: frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED}),
    # Where a partially refunded order may go depends on where it was: see `allowed`.
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

# Money has been taken (captured) in these states.
CAPTURED = frozenset({S.PAID, S.PROCESSING, S.SHIPPED, S.DELIVERED, S.PARTIALLY_REFUNDED})
# Goods have not left the warehouse yet in these states.
NOT_SHIPPED = frozenset({S.PENDING_PAYMENT, S.AUTHORIZED, S.PAID, S.PROCESSING})

LABELS = {
    S.PENDING_PAYMENT: "awaiting payment", S.AUTHORIZED: "payment authorized",
    S.PAID: "paid", S.PROCESSING: "being prepared", S.SHIPPED: "shipped",
    S.DELIVERED: "delivered", S.CANCELLED: "cancelled", S.REFUNDED: "refunded",
    S.PARTIALLY_REFUNDED: "partially refunded",
}


FULFILMENT = frozenset({S.PROCESSING, S.SHIPPED, S.DELIVERED})


def allowed(current: OrderStatus,
            before_refund: OrderStatus | None = None) -> frozenset[OrderStatus]:
    """The moves from `current`; a partial refund keeps the order's place in fulfilment."""
    moves = TRANSITIONS[current]
    if current is S.PARTIALLY_REFUNDED and before_refund is not None:
        moves = moves | (TRANSITIONS[before_refund] & FULFILMENT)
    return moves


def check(current: OrderStatus, target: OrderStatus, *, before_refund: OrderStatus | None = None,
          number: str = "") -> None:
    """Raise a clear Conflict when `current -> target` is not an allowed move."""
    moves = allowed(current, before_refund)
    if target in moves:
        return
    allowed_text = ", ".join(sorted(s.value for s in moves)) or "none (final)"
    subject = f"Order {number}" if number else "The order"
    raise Conflict(OrderError.ILLEGAL_TRANSITION,
                   f"{subject} is {LABELS[current]} and cannot become {LABELS[target]}.",
                   current=current.value, target=target.value, allowed=allowed_text)
