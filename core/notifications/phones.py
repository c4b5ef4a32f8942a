"""Phone numbers for SMS: E.164 or nothing, checked with phonenumbers (Google's data)."""

from __future__ import annotations

import phonenumbers

MAX_INPUT = 40   # a number typed with spaces and dashes is shorter than this


def e164(text: str, region: str | None = None) -> str | None:
    """`+491701234567` for a valid number (a national one read in `region`, ISO 3166
    alpha-2), None for anything else."""
    if not text or len(text) > MAX_INPUT:
        return None
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def masked(number: str) -> str:
    """`+49 ••• ••• 67`: enough for a shopper to recognise their number in a message."""
    return f"{number[:3]} ••• ••• {number[-2:]}" if len(number) > 6 else "•••"
