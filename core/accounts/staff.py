"""Signing staff in to the console: the password (each attempt waiting out the slowdown
that failures under its address and network earned, core/accounts/throttle.py), then a
second factor that every console role must have, since support read personal data too
(core/accounts/second_factor.py), then console sessions that can all be revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import service as accounts
from core.accounts import throttle
from core.accounts.errors import AccountError
from core.accounts.models import Role, StaffSession, User
from core.audit import service as audit
from core.audit.actor import Actor
from core.clock import now
from core.errors import Forbidden, InvalidInput
from core.i18n import _

CONSOLE_ROLES = frozenset({Role.ADMIN, Role.SUPPORT})
SESSION_IDLE = timedelta(hours=12)
LONGEST_EMAIL = 320  # more than any address can be: the rest is not read


def keyed(secret_key: str, text: str) -> str:
    """What is stored of a token or code: its HMAC, so a copy of the table opens nothing."""
    return hmac.new(secret_key.encode(), text.encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()


def wait_message(seconds: int) -> str:
    if seconds <= 1:
        return _("Too many sign-in attempts. Please wait a second and try again.")
    if seconds < 120:
        return _("Too many sign-in attempts. Please wait {seconds} seconds and try again.",
                 seconds=seconds)
    return _("Too many sign-in attempts. Please wait {minutes} minutes and try again.",
             minutes=math.ceil(seconds / 60))


def locked_message() -> str:
    return _("This account is locked after too many wrong sign-in codes. Please ask an "
             "admin to unlock it.")


async def check_password(*, session: AsyncSession, email: str, password: str,
                         ip: str) -> User:
    """The staff member for these credentials; customers can't enter, nor can anyone into
    a locked account. An attempt still inside its wait is refused unevaluated
    (Forbidden, code TOO_MANY_ATTEMPTS, `details["retry_after"]` seconds).

    The caller commits even when this raises, so failures are counted (run it in a
    transaction of its own).
    """
    email = email[:LONGEST_EMAIL]
    address = accounts.sign_in_address(email)
    seconds = await throttle.wait(session=session, address=address, ip=ip)
    if seconds:
        raise Forbidden(AccountError.TOO_MANY_ATTEMPTS, wait_message(seconds),
                        retry_after=seconds)
    try:
        user = await accounts.authenticate(session=session, email=email, password=password)
    except (InvalidInput, Forbidden):
        await throttle.failed(session=session, address=address, ip=ip)
        raise
    if user.role not in CONSOLE_ROLES:
        await throttle.failed(session=session, address=address, ip=ip)
        raise Forbidden(AccountError.NOT_STAFF, "This sign-in is for shop staff only.")
    await throttle.succeeded(session=session, address=address)
    if user.locked_at is not None:  # told only to someone who knows the password
        raise Forbidden(AccountError.LOCKED, locked_message())
    return user


def needs_enrolment(user: User) -> bool:
    """Every console role reads personal data, so each must have a second factor first."""
    return user.role in CONSOLE_ROLES and user.totp_enabled_at is None


def has_second_factor(user: User) -> bool:
    return user.totp_enabled_at is not None


async def open_session(*, session: AsyncSession, user: User, secret_key: str,
                       actor: Actor) -> str:
    """A new console session; the token goes in a signed cookie, only its hash is kept."""
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(user_id=user.id, token_hash=keyed(secret_key, token)))
    user.last_login_at = now()
    await audit.record(session=session, actor=actor, action="account.signed_in",
                       subject_type="user", subject_id=user.id)
    await session.flush()
    return token


async def session_user(*, session: AsyncSession, token: str, secret_key: str) -> User | None:
    """The active staff member behind a session token, or None (expired, revoked, disabled,
    locked, or yet to enrol a second factor)."""
    row = await session.scalar(select(StaffSession).where(
        StaffSession.token_hash == keyed(secret_key, token),
        StaffSession.revoked_at.is_(None)))
    if row is None or row.last_seen_at < now() - SESSION_IDLE:
        return None
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active or user.role not in CONSOLE_ROLES:
        return None
    if needs_enrolment(user) or user.locked_at is not None:
        return None
    row.last_seen_at = now()
    return user


async def close_session(*, session: AsyncSession, token: str, secret_key: str) -> None:
    await session.execute(update(StaffSession).where(
        StaffSession.token_hash == keyed(secret_key, token),
        StaffSession.revoked_at.is_(None)).values(revoked_at=now()))


async def revoke_all(*, session: AsyncSession, user_id: int) -> int:
    """End every open session of one person (no audit: the caller records why)."""
    result = await session.execute(update(StaffSession).where(
        StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def close_all(*, session: AsyncSession, user: User, actor: Actor) -> int:
    closed = await revoke_all(session=session, user_id=user.id)
    await audit.record(session=session, actor=actor, action="account.signed_out_everywhere",
                       subject_type="user", subject_id=user.id)
    return closed
