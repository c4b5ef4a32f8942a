"""The rows behind nudges and staff alerts: durable, so a restart or a second process loses
nothing and repeats nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base


class BackInStockSubscription(Base):
    """"Tell me when it's back": one per (product, holder), so pressing twice is one.
    Fulfilled by the restock that told it; pressing again later asks anew."""

    __tablename__ = "back_in_stock_subscriptions"
    __table_args__ = (
        UniqueConstraint("product_id", "holder"),
        Index("ix_back_in_stock_waiting", "product_id", "fulfilled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    holder: Mapped[str] = mapped_column(String(80))       # preferences.holder_for
    chat_key: Mapped[str | None] = mapped_column(String(160))
    # A signed-in shopper is also mailed, at the account's address as it is then.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    fulfilled_at: Mapped[datetime | None] = mapped_column(index=True)   # the purge
    restock_id: Mapped[int | None]                        # the restock that told it


class Restock(Base):
    """A product's available stock went from none to some: the episode its waiting
    subscribers are told of, in batches, by the sweeper."""

    __tablename__ = "restocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    available: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=now)
    done_at: Mapped[datetime | None] = mapped_column(index=True)
    # Batches that failed (core.nudges.back_in_stock.tell_waiting): a restock failing again
    # and again is given up after GIVE_UP, and waits until `retry_at` in between, so it
    # never holds up the restocks after it.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    retry_at: Mapped[datetime | None]


class CartReminder(Base):
    """The last cart episode (the cart's `updated_at`) looked at for a reminder, sent or not:
    a cart is reminded of once until it changes again."""

    __tablename__ = "cart_reminders"

    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"),
                                         primary_key=True)
    episode_at: Mapped[datetime]
    sent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class StaffAlert(Base):
    """Something staff should know (a product running low, a shopper left waiting), kept
    until a batch sends it: `sent_at` is set in the transaction that queues the summary."""

    __tablename__ = "staff_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))        # "low_stock" | "waiting"
    subject_id: Mapped[int]                              # the product or the handoff
    label: Mapped[str] = mapped_column(String(200))      # a product's name, no personal data
    created_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
