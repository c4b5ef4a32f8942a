"""One row per chat: its dialog state as JSON, and when it goes stale."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base


class ChatSession(Base):
    __tablename__ = "chat_sessions"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime] = mapped_column(index=True)
