"""Codes for what support rules refuse."""

from enum import StrEnum


class SupportError(StrEnum):
    FAQ_INVALID = "support.faq_invalid"
    FAQ_NOT_FOUND = "support.faq_not_found"
    HANDOFF_NOT_FOUND = "support.handoff_not_found"
    HANDOFF_TAKEN = "support.handoff_taken"
    HANDOFF_CLOSED = "support.handoff_closed"
    MESSAGE_INVALID = "support.message_invalid"
    STAFF_INVALID = "support.staff_invalid"
    RATING_INVALID = "support.rating_invalid"
    SAVED_REPLY_INVALID = "support.saved_reply_invalid"
