"""Codes for what cart rules refuse."""

from enum import StrEnum


class CartError(StrEnum):
    QUANTITY_INVALID = "cart.quantity_invalid"
    NOT_ENOUGH_STOCK = "cart.not_enough_stock"
    PRODUCT_UNAVAILABLE = "cart.product_unavailable"
    NOT_IN_CART = "cart.not_in_cart"
    EMPTY = "cart.empty"
    CURRENCY_MISMATCH = "cart.currency_mismatch"
    OWNER_REQUIRED = "cart.owner_required"
