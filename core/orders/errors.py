"""Codes for what order rules refuse."""

from enum import StrEnum


class OrderError(StrEnum):
    NOT_FOUND = "order.not_found"
    LOOKUP_SLOWED = "order.lookup_slowed"
    ILLEGAL_TRANSITION = "order.illegal_transition"
    CART_EMPTY = "order.cart_empty"
    CART_HAS_PROBLEMS = "order.cart_has_problems"
    PRICES_CHANGED = "order.prices_changed"
    REFUND_INVALID = "order.refund_invalid"
    NUMBER_INVALID = "order.number_invalid"
