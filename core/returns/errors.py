"""Codes for what return rules refuse."""

from enum import StrEnum


class ReturnError(StrEnum):
    NOT_FOUND = "return.not_found"
    NOT_RETURNABLE = "return.not_returnable"
    WINDOW_CLOSED = "return.window_closed"
    QUANTITY_INVALID = "return.quantity_invalid"
    ALREADY_REQUESTED = "return.already_requested"
    REASON_INVALID = "return.reason_invalid"
    PHOTO_INVALID = "return.photo_invalid"
    ILLEGAL_TRANSITION = "return.illegal_transition"
