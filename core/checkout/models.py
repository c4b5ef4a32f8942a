"""Addresses a signed-in shopper has shipped to, offered again at their next checkout."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base


class SavedAddress(Base):
    __tablename__ = "saved_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[str] = mapped_column(Text)        # an Address, encrypted
    fingerprint: Mapped[str] = mapped_column(Text)   # keyed hash: the same address once
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_used_at: Mapped[datetime] = mapped_column(default=now)
