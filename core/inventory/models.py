"""Stock levels, reservations and stock alerts.

`on_hand` is what is on the shelf; `reserved` is promised to orders awaiting payment.
The CHECK constraints make overselling impossible even for a bug above them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, str_enum


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"


class StockItem(Base):
    __tablename__ = "stock_items"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        CheckConstraint("low_stock_threshold >= 0", name="threshold_not_negative"),
    )

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    low_stock_threshold: Mapped[int] = mapped_column(default=5)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    # Both work on a row and in a query (`where(StockItem.running_low)`): the one place
    # "available" and "running low" (at or under the alert, sold out included) are defined.
    @hybrid_property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @hybrid_property
    def running_low(self) -> bool:
        return self.on_hand - self.reserved <= self.low_stock_threshold


class Reservation(Base):
    __tablename__ = "stock_reservations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_stock_reservations_active_expiry", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    status: Mapped[ReservationStatus] = mapped_column(
        str_enum(ReservationStatus, 16),
        default=ReservationStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class StockAlert(Base):
    """Raised when available stock falls to or below the threshold; one open per product."""

    __tablename__ = "stock_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"),
                                            index=True)
    available: Mapped[int]
    threshold: Mapped[int]
    raised_at: Mapped[datetime] = mapped_column(default=now)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    note: Mapped[str] = mapped_column(String(200), default="")
