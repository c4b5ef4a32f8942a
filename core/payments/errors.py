"""Codes for what payment rules refuse."""

from enum import StrEnum


class PaymentError(StrEnum):
    GATEWAY_UNAVAILABLE = "payment.gateway_unavailable"
    GATEWAY_REFUSED = "payment.gateway_refused"
    NOT_CAPTURABLE = "payment.not_capturable"
    NOTHING_TO_REFUND = "payment.nothing_to_refund"
    ORDER_CHANGED = "payment.order_changed"
