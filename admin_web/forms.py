"""Reading what staff type into the console's forms: amounts, whole numbers and dates."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from core.catalog.errors import CatalogError
from core.errors import InvalidInput
from core.money import parse_amount
from core.orders.errors import OrderError


def amount(text: str, currency: str, code: StrEnum = OrderError.REFUND_INVALID) -> int:
    try:
        return parse_amount(text.strip(), currency)
    except ValueError as problem:
        raise InvalidInput(code, f"“{text.strip()[:20]}” is not an amount: {problem}.") \
            from None


def whole(text: str, label: str) -> int:
    try:
        return int(text.strip() or "0")
    except ValueError:
        raise InvalidInput(CatalogError.PRICE_INVALID,
                           f"{label} is a whole number, like 12.") from None


def day(text: str) -> datetime | None:
    """A date typed as YYYY-MM-DD, as the start of that day in UTC; None when empty or bad."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
