"""Users, their linked chat identities, and single-use account tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import now
from core.db import Base, str_enum


class Role(StrEnum):
    ADMIN = "admin"
    SUPPORT = "support"
    CUSTOMER = "customer"


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"


class SignInStage(StrEnum):
    """What a pending console sign-in waits for after the password."""

    CODE = "code"    # a code from the authenticator already enrolled (or a recovery code)
    ENROL = "enrol"  # a first code from the authenticator being set up


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        str_enum(Role, 16), default=Role.CUSTOMER)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    email_verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_login_at: Mapped[datetime | None]
    # Second factor (TOTP): the secret sealed with the Vault; on once enrolment is confirmed.
    totp_sealed: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]      # a code is good once: its time step is kept
    # Wrong second-factor codes in the day since the first of them (kept across sign-ins);
    # too many lock the account until an admin unlocks it.
    factor_failures: Mapped[int] = mapped_column(default=0)
    factor_failures_since: Mapped[datetime | None]
    locked_at: Mapped[datetime | None]

    identities: Mapped[list[ChatIdentity]] = relationship(back_populates="user")

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None


class ChatIdentity(Base):
    """A person on one platform. No user_id means a guest shopper."""

    __tablename__ = "chat_identities"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_seen_at: Mapped[datetime] = mapped_column(default=now)

    user: Mapped[User | None] = relationship(back_populates="identities")

    @property
    def is_guest(self) -> bool:
        return self.user_id is None


class AccountToken(Base):
    """The server-side half of a signed token: makes it single use and revocable."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(String(43), unique=True)
    purpose: Mapped[TokenPurpose] = mapped_column(
        str_enum(TokenPurpose, 24))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LinkCode(Base):
    """A one-time code mailed to prove a chat's person owns an email address.

    Only a keyed hash of the code is kept; wrong guesses are counted so a code
    cannot be brute-forced.
    """

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("chat_identities.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app; only its keyed hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class StaffSession(Base):
    """A signed-in console session; revoking them all signs a person out everywhere."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_seen_at: Mapped[datetime] = mapped_column(default=now)
    revoked_at: Mapped[datetime | None]


class PendingSignIn(Base):
    """A console sign-in between the password and the second factor, found by the keyed
    hash of the random token in its cookie. It counts its own wrong codes, and for an
    enrolment it holds the one secret that attempt shows (sealed with the Vault) until a
    code confirms it."""

    __tablename__ = "pending_sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stage: Mapped[SignInStage] = mapped_column(str_enum(SignInStage, 8))
    totp_sealed: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SignInThrottle(Base):
    """Recent failed passwords under one key (a normalised address, or a client's network),
    shared by every process: how long the next attempt under that key must wait."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None]
