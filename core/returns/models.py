"""A shopper's return: which order, which units, why (sealed), photos, and its state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import now
from core.db import Base, str_enum
from core.returns.states import ReturnStatus


class ReturnReason(StrEnum):
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    DOES_NOT_FIT = "does_not_fit"
    CHANGED_MIND = "changed_mind"
    OTHER = "other"


class ReturnRequest(Base):
    __tablename__ = "return_requests"
    __table_args__ = (
        Index("ix_return_requests_status_created", "status", "created_at"),
        CheckConstraint("refunded_minor >= 0", name="refunded_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_identities.id", ondelete="SET NULL"), index=True)
    # The chat the shopper asked from: every step is told there (core.outbox).
    chat_key: Mapped[str] = mapped_column(String(160))
    status: Mapped[ReturnStatus] = mapped_column(str_enum(ReturnStatus, 16),
                                                 default=ReturnStatus.REQUESTED)
    reason: Mapped[ReturnReason] = mapped_column(str_enum(ReturnReason, 24))
    # Free text people wrote (the shopper's details; staff's instructions or refusal
    # reason): personal data, sealed with the shop's Vault like addresses.
    details_sealed: Mapped[str | None] = mapped_column(Text)
    answer_sealed: Mapped[str | None] = mapped_column(Text)
    restocked: Mapped[bool] = mapped_column(default=False)
    refunded_minor: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    lines: Mapped[list[ReturnLine]] = relationship(
        order_by="ReturnLine.id", cascade="all, delete-orphan", lazy="selectin")
    photos: Mapped[list[ReturnPhoto]] = relationship(
        order_by="ReturnPhoto.id", cascade="all, delete-orphan", lazy="selectin")


class ReturnLine(Base):
    __tablename__ = "return_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("return_requests.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int]


class ReturnPhoto(Base):
    """A picture the shopper sent, checked like catalog images; the file is kept outside
    the public media folder (core.returns.photos) and shown to staff only."""

    __tablename__ = "return_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("return_requests.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=now)
