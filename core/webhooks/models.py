"""One row per outside delivery already processed: the de-duplication record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base


class WebhookReceipt(Base):
    __tablename__ = "webhook_receipts"
    __table_args__ = (UniqueConstraint("source", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(48))       # "telegram:123456", "slack:T0001"
    event_id: Mapped[str] = mapped_column(String(128))    # update_id, event_id, trigger_id
    received_at: Mapped[datetime] = mapped_column(default=now, index=True)
