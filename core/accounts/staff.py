"""Signing staff in to the console: password, then a TOTP second factor (required for
admins, optional for support), recovery codes, console sessions that can all be revoked,
and a limit on sign-in attempts per address and per IP.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import pyotp
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.errors import AccountError
from core.accounts.models import LoginAttempt, RecoveryCode, Role, StaffSession, User
from core.accounts.service import authenticate
from core.audit import service as audit
from core.audit.actor import Actor
from core.clock import now
from core.crypto import Vault
from core.errors import Forbidden, InvalidInput

ATTEMPT_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL, MAX_FAILURES_PER_IP = 5, 20
RECOVERY_CODES = 10
SESSION_IDLE = timedelta(hours=12)
ISSUER = "Chatcart"


def _keyed(secret_key: str, text: str) -> str:
    return hmac.new(secret_key.encode(), text.encode(), hashlib.sha256).hexdigest()


async def _check_attempts(session: AsyncSession, email: str, ip: str) -> None:
    since = now() - ATTEMPT_WINDOW
    failures = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.at > since, LoginAttempt.succeeded.is_(False))
    by_email = await session.scalar(failures.where(LoginAttempt.email == email))
    by_ip = await session.scalar(failures.where(LoginAttempt.ip == ip))
    if (by_email or 0) >= MAX_FAILURES_PER_EMAIL or (by_ip or 0) >= MAX_FAILURES_PER_IP:
        raise Forbidden(AccountError.TOO_MANY_ATTEMPTS,
                        "Too many sign-in attempts. Please wait 15 minutes and try again.")


async def check_password(*, session: AsyncSession, email: str, password: str,
                         ip: str) -> User:
    """The staff member for these credentials, counting every attempt; customers can't enter.

    The caller commits even when this raises, so failed attempts are counted (run it in a
    transaction of its own).
    """
    address = email.strip().lower()[:254]
    await _check_attempts(session, address, ip)
    try:
        user = await authenticate(session=session, email=email, password=password)
    except (InvalidInput, Forbidden):
        session.add(LoginAttempt(email=address, ip=ip[:64], succeeded=False))
        raise
    if user.role is Role.CUSTOMER:
        session.add(LoginAttempt(email=address, ip=ip[:64], succeeded=False))
        raise Forbidden(AccountError.NOT_STAFF, "This sign-in is for shop staff only.")
    session.add(LoginAttempt(email=address, ip=ip[:64], succeeded=True))
    return user


def needs_enrolment(user: User) -> bool:
    """Admins must have a second factor before they get in."""
    return user.role is Role.ADMIN and user.totp_enabled_at is None


def has_second_factor(user: User) -> bool:
    return user.totp_enabled_at is not None


async def begin_enrolment(*, session: AsyncSession, user: User, vault: Vault
                          ) -> tuple[str, str]:
    """A fresh secret (not on until confirmed) and its otpauth:// URI for the QR code."""
    secret = pyotp.random_base32()
    user.totp_sealed = vault.seal({"secret": secret})
    user.totp_enabled_at = None
    await session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return secret, uri


def enrolment(*, user: User, vault: Vault) -> tuple[str, str]:
    """The secret being enrolled and its otpauth:// URI (to show the same QR code again)."""
    totp = _totp(user, vault)
    assert totp is not None
    return totp.secret, totp.provisioning_uri(name=user.email, issuer_name=ISSUER)


def _totp(user: User, vault: Vault) -> pyotp.TOTP | None:
    if not user.totp_sealed:
        return None
    return pyotp.TOTP(str(vault.open(user.totp_sealed)["secret"]))


def _matching_step(totp: pyotp.TOTP, code: str) -> int | None:
    """The time step a code belongs to (now, or one step either side), if any."""
    moment = now()
    current = totp.timecode(moment)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


async def confirm_enrolment(*, session: AsyncSession, user: User, code: str, vault: Vault,
                            secret_key: str, actor: Actor) -> list[str]:
    """Switch the second factor on with a first good code; returns the recovery codes (once)."""
    totp = _totp(user, vault)
    step = _matching_step(totp, _digits(code)) if totp else None
    if step is None:
        raise InvalidInput(AccountError.TOTP_INVALID,
                           "That code is not right. Check the time on your phone and type "
                           "the 6 digits the app shows now.")
    user.totp_enabled_at, user.totp_last_step = now(), step
    await session.execute(update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                     RecoveryCode.used_at.is_(None))
                          .values(used_at=now()))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_keyed(secret_key, code))
                    for code in codes)
    await audit.record(session=session, actor=actor, action="account.2fa_enabled",
                       subject_type="user", subject_id=user.id)
    return codes


def _digits(code: str) -> str:
    return "".join(ch for ch in code if ch.isdigit())


async def verify_second_factor(*, session: AsyncSession, user: User, code: str, vault: Vault,
                               secret_key: str, actor: Actor) -> bool:
    """A current authenticator code (each good once) or an unused recovery code."""
    totp = _totp(user, vault)
    if totp and user.totp_enabled_at and (step := _matching_step(totp, _digits(code))):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return False  # replayed
        spent = await session.execute(
            update(User).where(User.id == user.id,
                               (User.totp_last_step.is_(None)) | (User.totp_last_step < step))
            .values(totp_last_step=step))
        return spent.rowcount == 1  # type: ignore[attr-defined]
    typed = code.strip().lower()
    spent = await session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == _keyed(secret_key, typed),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=now()))
    if spent.rowcount == 1:  # type: ignore[attr-defined]
        await audit.record(session=session, actor=actor, action="account.recovery_code_used",
                           subject_type="user", subject_id=user.id)
        return True
    return False


async def open_session(*, session: AsyncSession, user: User, secret_key: str,
                       actor: Actor) -> str:
    """A new console session; the token goes in a signed cookie, only its hash is kept."""
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(user_id=user.id, token_hash=_keyed(secret_key, token)))
    user.last_login_at = now()
    await audit.record(session=session, actor=actor, action="account.signed_in",
                       subject_type="user", subject_id=user.id)
    await session.flush()
    return token


async def session_user(*, session: AsyncSession, token: str, secret_key: str) -> User | None:
    """The active staff member behind a session token, or None (expired, revoked, disabled)."""
    row = await session.scalar(select(StaffSession).where(
        StaffSession.token_hash == _keyed(secret_key, token),
        StaffSession.revoked_at.is_(None)))
    if row is None or row.last_seen_at < now() - SESSION_IDLE:
        return None
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active or user.role is Role.CUSTOMER:
        return None
    if needs_enrolment(user):
        return None
    row.last_seen_at = now()
    return user


async def close_session(*, session: AsyncSession, token: str, secret_key: str) -> None:
    await session.execute(update(StaffSession).where(
        StaffSession.token_hash == _keyed(secret_key, token),
        StaffSession.revoked_at.is_(None)).values(revoked_at=now()))


async def close_all(*, session: AsyncSession, user: User, actor: Actor) -> int:
    result = await session.execute(update(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now()))
    await audit.record(session=session, actor=actor, action="account.signed_out_everywhere",
                       subject_type="user", subject_id=user.id)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

