"""One notification delivery: an event told to one recipient on one channel, at most once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base


class NotificationDelivery(Base):
    """Kept after the outbox row is purged, so a replayed event a week later is still
    recognised. `key` is a hash of (event, recipient, channel): no address in clear."""

    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(80))     # "order:12"
    channel: Mapped[str] = mapped_column(String(8))      # "email", "chat"
    # The rendered mail (to, subject, text, html), sealed: the sender opens it as it goes.
    content_sealed: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
