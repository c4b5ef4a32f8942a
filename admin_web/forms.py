"""Reading what staff type into the console's forms (amounts, whole numbers and dates)
and the numbers in its paths.

Every number is bounded by what the database holds: an INTEGER column on PostgreSQL
stops at 2**31 - 1, and SQLite raised OverflowError past 2**63 (a 500 for
`/admin/users/99999999999999999999` or a price of 1e30).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from core.catalog.errors import CatalogError
from core.errors import InvalidInput
from core.money import parse_amount
from core.orders.errors import OrderError

LARGEST = 2**31 - 1


def fits(text: str) -> bool:
    """Whether a path segment, if it is a number, is one the database can hold."""
    digits = text.lstrip("+-")
    return not (digits.isascii() and digits.isdigit()) or len(digits) <= 10 and int(
        digits) <= LARGEST


def amount(text: str, currency: str, code: StrEnum = OrderError.REFUND_INVALID) -> int:
    try:
        minor = parse_amount(text.strip()[:40], currency)
    except ValueError as problem:
        raise InvalidInput(code, f"“{text.strip()[:20]}” is not an amount: {problem}.") \
            from None
    if minor > LARGEST:
        raise InvalidInput(code, f"“{text.strip()[:20]}” is more than this shop can record.")
    return minor


def bounded(text: str, most: int) -> str:
    """Free text from a form, cut to what its rule allows at most plus one character (so a
    longer text is still refused by that rule, with its message, rather than cut short
    silently) and never longer than that in a page or a log."""
    return text[:most + 1]


def whole(text: str, label: str, code: StrEnum = CatalogError.PRICE_INVALID) -> int:
    """A whole number, signed (a stock change) or not, within what the database holds."""
    digits = text.strip().replace(" ", "") or "0"
    if len(digits) > 11 or not digits.lstrip("+-").isascii():
        raise InvalidInput(code, f"{label} is a whole number between {-LARGEST} and "
                                 f"{LARGEST}.")
    try:
        number = int(digits)
    except ValueError:
        raise InvalidInput(code, f"{label} is a whole number, like 12.") from None
    if abs(number) > LARGEST:
        raise InvalidInput(code, f"{label} is a whole number between {-LARGEST} and "
                                 f"{LARGEST}.")
    return number


def ident(text: str) -> int | None:
    """A row id or count from a link or form (ASCII digits only: "²" is a digit to
    Python, not to int()); None when it is anything else."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) < 10 else None


def page(text: str) -> int:
    """A list's page number from the address bar: 1 when missing or not a number."""
    return ident(text) or 1


def attributes(text: str) -> dict[str, str]:
    """'name: value' lines (core's rules decide what names and values may be)."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise InvalidInput(CatalogError.ATTRIBUTES_INVALID,
                               f"Attribute line {number} needs a colon, like “colour: blue”.")
        if name.strip() in found:
            raise InvalidInput(CatalogError.ATTRIBUTES_INVALID,
                               f"“{name.strip()}” is given twice (line {number}).")
        found[name.strip()] = value.strip()
    return found


def day(text: str) -> datetime | None:
    """A date typed as YYYY-MM-DD, as the start of that day in UTC; None when empty or bad."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
