"""Codes for what inventory rules refuse."""

from enum import StrEnum


class InventoryError(StrEnum):
    OUT_OF_STOCK = "inventory.out_of_stock"
    ADJUSTMENT_INVALID = "inventory.adjustment_invalid"
    RESERVATION_NOT_ACTIVE = "inventory.reservation_not_active"
    THRESHOLD_INVALID = "inventory.threshold_invalid"


def shortage_message(name: str, available: int, in_cart: int = 0) -> str:
    """The one wording for "not enough stock", wherever a shopper meets it."""
    if available <= 0:
        return f"Sorry, {name} is sold out."
    if in_cart:
        return (f"Sorry, only {available} of {name} left, "
                f"and you already have {in_cart} in your cart.")
    return f"Sorry, only {available} of {name} left."
