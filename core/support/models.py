"""FAQ entries (edited by staff) and handoff requests (a shopper asked for a human)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, str_enum


class HandoffStatus(StrEnum):
    OPEN = "open"
    TAKEN = "taken"
    CLOSED = "closed"


class FaqEntry(Base):
    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(Text)
    # Extra words shoppers use for this question ("delivery", "postage"), space separated.
    keywords: Mapped[str] = mapped_column(String(400), default="")
    position: Mapped[int] = mapped_column(default=0)
    is_published: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class HandoffRequest(Base):
    """A conversation with a person: OPEN (waiting for one), TAKEN (with one), CLOSED
    (back with the bot). A chat has at most one that is not CLOSED."""

    __tablename__ = "handoff_requests"
    __table_args__ = (Index("ix_handoff_requests_status_created", "status", "created_at"),
                      Index("ix_handoff_requests_chat_key_status", "chat_key", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("chat_identities.id", ondelete="CASCADE"), index=True)
    chat_key: Mapped[str] = mapped_column(String(160))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[HandoffStatus] = mapped_column(str_enum(HandoffStatus, 16),
                                                  default=HandoffStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=now)
    # The staff member who took the request, so two people never answer one shopper.
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    taken_at: Mapped[datetime | None]
    # Why it closed: resolved (by staff), left (the shopper went back to the bot),
    # undeliverable (the chat cannot be reached: the shopper blocked the bot).
    close_reason: Mapped[str | None] = mapped_column(String(24))
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    # A chat key ("platform:chat_id") where staff see the conversation (the Slack thread).
    mirror_key: Mapped[str | None] = mapped_column(String(160), index=True)
    # The shopper's rating (1 to 5) once resolved, and their comment sealed with the Vault.
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    # The last "passed on / still waiting, you are number N" told to the shopper.
    waiting_notice_at: Mapped[datetime | None]
    # Asked when nobody was online or outside SUPPORT_HOURS: answers are copied by email.
    offline: Mapped[bool] = mapped_column(default=False)
    # The shopper's email for answers (given in the chat, or the account's), sealed.
    contact_email: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None]   # admins were emailed that nobody took it


class Author(StrEnum):
    """Who wrote a transcript entry."""
    SHOPPER = "shopper"
    BOT = "bot"
    AGENT = "agent"
    NOTE = "note"      # staff only: the shopper never sees it
    SYSTEM = "system"  # taken, transferred, resolved, left...


class Origin(StrEnum):
    """Where an entry was typed: the shopper's chat, the console, or the staff mirror
    (the Slack support thread). Entries are mirrored everywhere except where they came from."""
    CHAT = "chat"
    CONSOLE = "console"
    MIRROR = "mirror"


class SupportMessage(Base):
    """One transcript entry. The text is sealed with the shop's Vault (personal data);
    `context` marks the turns from before the request, copied in for the agent."""

    __tablename__ = "support_messages"
    __table_args__ = (Index("ix_support_messages_handoff_id_id", "handoff_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(
        ForeignKey("handoff_requests.id", ondelete="CASCADE"))
    author: Mapped[Author] = mapped_column(str_enum(Author, 16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    origin: Mapped[Origin] = mapped_column(str_enum(Origin, 16), default=Origin.CHAT)
    sealed: Mapped[str] = mapped_column(Text)
    context: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=now)


class SavedReply(Base):
    """A canned answer staff pick in the console (not personal data: staff write it)."""

    __tablename__ = "support_saved_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class StaffPresence(Base):
    """When a staff member last acted (console request, Slack action): "online" is recent."""

    __tablename__ = "support_staff_presence"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=now)
