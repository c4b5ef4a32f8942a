"""Money as integer minor units plus an ISO 4217 currency code; never floats."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.core import UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision, list_currencies

_KNOWN = frozenset(list_currencies())


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for a currency (EUR 2, JPY 0, KWD 3)."""
    if currency not in _KNOWN:
        raise ValueError(f"unknown currency {currency!r}")
    return int(get_currency_precision(currency))


def parse_amount(text: str | int | Decimal, currency: str) -> int:
    """Turn "12.50" into 1250 minor units; refuse floats, negatives and extra digits."""
    if isinstance(text, float):
        raise ValueError("amounts are written as text like 12.50, not floats")
    raw = str(text).strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not an amount like 12.50") from None
    if not value.is_finite():
        raise ValueError(f"{raw!r} is not an amount like 12.50")
    if value < 0:
        raise ValueError("an amount cannot be negative")
    if value.adjusted() >= 15:  # "1e999999999" would be a billion-digit integer
        raise ValueError(f"{raw[:20]!r} is too large an amount")
    exponent = currency_exponent(currency)
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise ValueError(f"{raw!r} has more than {exponent} decimal places for {currency}")
    return int(minor)


@functools.lru_cache(maxsize=8192)
def format_amount(amount_minor: int, currency: str, locale: str = "en_US") -> str:
    """Shopper-facing text: 1250 EUR -> "€12.50". Kept once worked out: a shop shows the
    same prices over and over, and Babel takes a tenth of a millisecond each time."""
    value = Decimal(amount_minor).scaleb(-currency_exponent(currency))
    try:
        return format_currency(value, currency, locale=locale)
    except UnknownLocaleError:
        return format_currency(value, currency, locale="en_US")


def to_decimal_text(amount_minor: int, currency: str) -> str:
    """1250 EUR -> "12.50": the import/export form."""
    exponent = currency_exponent(currency)
    return f"{Decimal(amount_minor).scaleb(-exponent):.{exponent}f}"


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def __mul__(self, times: int) -> Money:
        return Money(self.amount * times, self.currency)

    def __str__(self) -> str:
        return format_amount(self.amount, self.currency)
