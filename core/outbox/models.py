"""One message waiting for (or past) delivery to a chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base


class OutboxMessage(Base):
    """Handed out on a lease: a deliverer that dies holding one lets it go when the lease
    ends, and another delivers it (at least once; a platform is told at most a few times)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_pending", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(160))   # "telegram:123", "web:abc..."
    # {"text": ..., "buttons": [[{"label", "action"}]], "links": [{"label", "url"}]}
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_until: Mapped[datetime | None]     # a deliverer holds it until then
    next_attempt_at: Mapped[datetime | None]   # after a failure: not before then
    gave_up_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
