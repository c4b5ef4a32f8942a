"""One notification delivery: an event told to one recipient on one channel, at most once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)   # the purge


class NotificationPreference(Base):
    """What one shopper chose. `holder` says whose choices these are without an address in
    clear (core.notifications.preferences.holder_for): an account, a guest's order email,
    or a chat with neither. No row means the defaults (core.notifications.kinds)."""

    __tablename__ = "notification_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(80), unique=True)
    # {"<category>:<channel>": true|false}; a missing pair takes the category's default.
    choices: Mapped[dict[str, Any]] = mapped_column(default=dict)
    time_zone: Mapped[str | None] = mapped_column(String(64))   # IANA, e.g. Europe/Berlin
    quiet_from: Mapped[int | None]    # minutes after local midnight; None = no quiet hours
    quiet_until: Mapped[int | None]
    # The number the shopper agreed to get SMS at (E.164, sealed), and when they agreed.
    sms_phone_sealed: Mapped[str | None] = mapped_column(Text)
    sms_agreed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class NotificationLinkUse(Base):
    """A signed preferences link already used to save or unsubscribe (its nonce), so the
    same link cannot change anything again. Kept until the link would have expired."""

    __tablename__ = "notification_link_uses"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)   # the purge
    used_at: Mapped[datetime] = mapped_column(default=now)


class PushSubscription(Base):
    """A browser's web push subscription, made from a web chat (`chat_key` `web:<id>`).
    The endpoint is a capability URL (whoever has it can push to that browser), so it and
    the keys are sealed; `endpoint_digest` (keyed) finds a browser subscribing again.
    `gone_at`: unsubscribed, or the push service said it no longer exists; nothing more
    is sent to it and its sealed part is cleared."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(80), index=True)
    endpoint_digest: Mapped[str] = mapped_column(String(40), unique=True)
    sealed: Mapped[str | None] = mapped_column(Text)   # {endpoint, p256dh, auth}
    created_at: Mapped[datetime] = mapped_column(default=now)
    gone_at: Mapped[datetime | None] = mapped_column(index=True)   # the purge


class SmsCode(Base):
    """A six-digit code texted to prove a number is the shopper's before they agree to SMS
    at it (core.notifications.sms_codes). Only a keyed hash of the code is kept; the number
    is sealed, with a keyed digest (`phone_digest`) to count the codes one number got."""

    __tablename__ = "sms_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(80), index=True)
    phone_sealed: Mapped[str] = mapped_column(Text)
    phone_digest: Mapped[str] = mapped_column(String(40), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime] = mapped_column(index=True)   # the purge
    used_at: Mapped[datetime | None]
