"""What refunding some of an order's lines is worth, and which units that takes back.

A line refund gives back the units' price and their share of the tax (tax was charged on
goods and shipping, so each unit carries its part of it, rounded down: never more than was
paid). When no unit would be left unrefunded, the refund is everything still held, shipping
included, and the order ends fully refunded.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.errors import Conflict, InvalidInput
from core.money import format_amount
from core.orders.errors import OrderError
from core.orders.models import Order


def check(order: Order, quantities: Mapping[int, int]) -> dict[int, int]:
    """The units to refund per line id (zeros dropped); refuses lines not on this order and
    more units than are left unrefunded on a line."""
    lines = {line.id: line for line in order.lines}
    wanted: dict[int, int] = {}
    for line_id, units in quantities.items():
        line = lines.get(line_id)
        if line is None:
            raise InvalidInput(OrderError.REFUND_INVALID,
                               f"That line is not on order {order.number}.")
        if isinstance(units, bool) or not isinstance(units, int) or units < 0:
            raise InvalidInput(OrderError.REFUND_INVALID,
                               f"Units to refund for {line.name} must be a whole number.")
        left = line.quantity - line.refunded_quantity
        if units > left:
            raise InvalidInput(OrderError.REFUND_INVALID,
                               f"Only {left} of {line.name} can still be refunded.")
        if units:
            wanted[line_id] = units
    if not wanted:
        raise InvalidInput(OrderError.REFUND_INVALID, "Choose at least one unit to refund.")
    return wanted


def worth(order: Order, wanted: Mapping[int, int]) -> int:
    """Minor units to give back for `wanted` (from `check`). When amounts refunded earlier
    leave less than these units are worth, the refund is refused rather than shrunk: the
    units' money is not all there, so "refund an amount" says what staff mean."""
    held = order.total_minor - order.refunded_minor
    if all(line.quantity - line.refunded_quantity == wanted.get(line.id, 0)
           for line in order.lines):
        return held
    value = units_value(order, wanted)
    if value > held:
        raise Conflict(OrderError.REFUND_INVALID,
                       f"Those items are worth {format_amount(value, order.currency)}, but "
                       f"only {format_amount(held, order.currency)} of order {order.number} "
                       "is left to refund: refund an amount instead.")
    return value


def units_value(order: Order, wanted: Mapping[int, int]) -> int:
    """What these units cost the shopper: their price and their share of the tax."""
    goods = sum(line.unit_price_minor * wanted.get(line.id, 0) for line in order.lines)
    taxed = order.subtotal_minor + order.shipping_minor
    return goods + (order.tax_minor * goods // taxed if taxed else 0)


def take_back(order: Order, wanted: Mapping[int, int]) -> None:
    for line in order.lines:
        line.refunded_quantity += wanted.get(line.id, 0)
