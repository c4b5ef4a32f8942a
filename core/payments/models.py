"""A payment attempt for an order at one gateway, and where its money stands."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, str_enum


class PaymentStatus(StrEnum):
    CREATED = "created"            # link made, shopper not done yet
    AUTHORIZED = "authorized"      # money held, to be captured at shipment
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"              # authorization released, nothing taken
    FAILED = "failed"              # declined or abandoned


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("gateway", "reference"),
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= captured_minor",
                        name="refund_within_captured"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random, never reused (ids can be after a rollback): the gateways' idempotency keys.
    key: Mapped[str] = mapped_column(String(32), unique=True,
                                     default=lambda: secrets.token_hex(16))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    gateway: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(255))   # the gateway's id
    intent: Mapped[str | None] = mapped_column(String(255))      # what captures/refunds use
    status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus, 24),
                                                  default=PaymentStatus.CREATED)
    capture_mode: Mapped[str] = mapped_column(String(12), default="immediate")  # at_shipment
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    captured_minor: Mapped[int] = mapped_column(default=0)
    refunded_minor: Mapped[int] = mapped_column(default=0)
    url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
