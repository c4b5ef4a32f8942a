"""What a cart shows: lines at today's prices, subtotal, item count, and what changed."""

from __future__ import annotations

from dataclasses import dataclass

from core.inventory.errors import shortage_message
from core.money import Money


@dataclass(frozen=True, slots=True)
class LineView:
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Money
    available: int
    is_active: bool
    seen_price_minor: int

    @property
    def line_total(self) -> Money:
        return self.unit_price * self.quantity

    @property
    def price_changed(self) -> bool:
        return self.seen_price_minor != self.unit_price.amount

    @property
    def problem(self) -> str | None:
        """Why this line cannot be bought as it stands, in shopper words."""
        if not self.is_active:
            return f"{self.name} is no longer sold."
        if self.quantity > self.available:
            return shortage_message(self.name, self.available)
        return None


@dataclass(frozen=True, slots=True)
class CartView:
    cart_id: int
    currency: str
    lines: list[LineView]

    @property
    def subtotal(self) -> Money:
        total = Money(0, self.currency)
        for line in self.lines:
            total = total + line.line_total
        return total

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def problems(self) -> list[str]:
        return [p for line in self.lines if (p := line.problem)]

    def line(self, product_id: int) -> LineView | None:
        return next((line for line in self.lines if line.product_id == product_id), None)
