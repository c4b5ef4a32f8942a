"""Shipping methods and their prices, and tax: the amounts a review shows and an order keeps.

Prices are in the shop currency's minor units. Standard delivery is free from a
threshold; tax (when `TAX_RATE_PERCENT` is set) is added on goods and shipping.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.checkout.errors import CheckoutError
from core.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ShippingMethod:
    code: str
    label: str
    days: str
    price_minor: int


STANDARD_MINOR, EXPRESS_MINOR, FREE_FROM_MINOR = 490, 1290, 5000


def methods(subtotal_minor: int) -> list[ShippingMethod]:
    standard = 0 if subtotal_minor >= FREE_FROM_MINOR else STANDARD_MINOR
    return [ShippingMethod("standard", "Standard", "3-5 working days", standard),
            ShippingMethod("express", "Express", "next working day", EXPRESS_MINOR)]


def method(code: str, subtotal_minor: int) -> ShippingMethod:
    for candidate in methods(subtotal_minor):
        if candidate.code == code:
            return candidate
    raise InvalidInput(CheckoutError.SHIPPING_METHOD_INVALID, "Please pick a shipping method.")


def tax_minor(taxable_minor: int, rate_basis_points: int) -> int:
    """Tax rounded half up to the minor unit: integers only, never floats."""
    return (taxable_minor * rate_basis_points + 5_000) // 10_000


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal_minor: int
    shipping_minor: int
    tax_minor: int
    currency: str

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor + self.shipping_minor + self.tax_minor


def totals(subtotal_minor: int, shipping: ShippingMethod, rate_basis_points: int,
           currency: str) -> Totals:
    tax = tax_minor(subtotal_minor + shipping.price_minor, rate_basis_points)
    return Totals(subtotal_minor, shipping.price_minor, tax, currency)
