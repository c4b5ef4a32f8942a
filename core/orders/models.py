"""Orders and their lines: a snapshot of what was bought, at which price."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import now
from core.db import Base, str_enum
from core.money import Money
from core.orders.states import OrderStatus


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= total_minor",
                        name="refund_within_total"),
        Index("ix_orders_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_identities.id", ondelete="SET NULL"), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[OrderStatus] = mapped_column(
        str_enum(OrderStatus, 24),
        default=OrderStatus.PENDING_PAYMENT)
    # Where fulfilment stood when a partial refund came, so the order can carry on from there.
    status_before_refund: Mapped[OrderStatus | None] = mapped_column(
        str_enum(OrderStatus, 24))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int]
    shipping_minor: Mapped[int] = mapped_column(default=0)
    tax_minor: Mapped[int] = mapped_column(default=0)
    total_minor: Mapped[int]
    refunded_minor: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    payment_due_at: Mapped[datetime | None]
    # Checkout details. Addresses are sealed (core.crypto); `chat_key` is where the
    # shopper ordered from, so confirmations go back to that chat.
    shipping_sealed: Mapped[str | None] = mapped_column(Text)
    billing_sealed: Mapped[str | None] = mapped_column(Text)
    shipping_method: Mapped[str | None] = mapped_column(String(16))
    chat_key: Mapped[str | None] = mapped_column(String(160))

    lines: Mapped[list[OrderLine]] = relationship(
        order_by="OrderLine.id", cascade="all, delete-orphan", lazy="selectin")

    @property
    def total(self) -> Money:
        return Money(self.total_minor, self.currency)

    @property
    def refundable(self) -> Money:
        return Money(self.total_minor - self.refunded_minor, self.currency)


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("refunded_quantity >= 0 AND refunded_quantity <= quantity",
                        name="refunded_within_quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit_price_minor: Mapped[int]
    quantity: Mapped[int]
    # Units given back by a refund of this line (core.payments.service.refund_lines).
    refunded_quantity: Mapped[int] = mapped_column(default=0)

    @property
    def line_total_minor(self) -> int:
        return self.unit_price_minor * self.quantity
