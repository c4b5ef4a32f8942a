"""Codes for what inventory rules refuse."""

from enum import StrEnum


class InventoryError(StrEnum):
    OUT_OF_STOCK = "inventory.out_of_stock"
    ADJUSTMENT_INVALID = "inventory.adjustment_invalid"
    RESERVATION_NOT_ACTIVE = "inventory.reservation_not_active"
    THRESHOLD_INVALID = "inventory.threshold_invalid"
