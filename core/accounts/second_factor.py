"""The console's second step, between the right password and a session: a code from the
authenticator app (or a recovery code), or for someone without one, enrolling it.

Shaped by an attack (issue 16): the code step took wrong codes without limit, and entering
the password again renewed its ten minutes, so 2FA fell to one client in about 40 minutes.

- A sign-in under way is a row (`PendingSignIn`): its cookie holds a random token and the
  row only the token's keyed hash, with the user, the stage, when it ends and how many
  wrong codes it took. After `TRIES_PER_SIGN_IN` it is void and the password is needed
  again.
- The account counts wrong codes too, across sign-ins: `TRIES_PER_ACCOUNT` within a day
  of the first of them lock it. Ten is twice one sign-in's allowance, so an owner who
  fumbles a sign-in is not locked out, while someone who has the password gets at most
  nine guesses a day at about three in a million each (the code of this time step or
  one either side), and the tenth tells every admin. Only an admin unlocks it (People ->
  the person -> Unlock, or `chatcart admin unlock`); a good code does not clear the
  count, or an attacker could wait for the owner to sign in.
- A check holds the user's row locked, so parallel requests for one account are
  counted one after the other, and a code that was already used counts as wrong.
- Enrolling: one secret per attempt, made with the pending row and sealed there, shown
  the same on every visit; a good code binds it only if the account has no confirmed
  factor yet (a conditional update), so a second attempt can neither replace nor bind
  over the first. Wrong enrolment codes count like wrong sign-in codes.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import string
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import staff
from core.accounts.errors import AccountError
from core.accounts.models import PendingSignIn, RecoveryCode, SignInStage, User
from core.audit import service as audit
from core.audit.actor import Actor, Channel
from core.clock import now
from core.crypto import Vault
from core.errors import Conflict, NotFound

PENDING_LIFETIME = timedelta(minutes=10)
TRIES_PER_SIGN_IN = 5
TRIES_PER_ACCOUNT, ACCOUNT_WINDOW = 10, timedelta(days=1)
RECOVERY_CODES = 10
ISSUER = "Chatcart"
LONGEST_CODE = 64  # more than a recovery code with spaces: the rest is not read
TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_")


class Outcome(StrEnum):
    PASSED = "passed"  # the code was good: open a session
    WRONG = "wrong"    # try another code
    VOID = "void"      # too many wrong codes on this sign-in: the password again
    LOCKED = "locked"  # the account is locked
    GONE = "gone"      # no such sign-in under way (ended, expired, or never was)
    TAKEN = "taken"    # an enrolment, but the account has a confirmed factor already


@dataclass(slots=True)
class Step:
    outcome: Outcome
    user: User | None = None
    codes: list[str] = field(default_factory=list)  # recovery codes, once, on enrolling
    counted: bool = False  # a wrong code this step counted (LOCKED: this one locked it)


def _hash(secret_key: str, token: str) -> str:
    return staff.keyed(secret_key, f"pending:{token}")


def _address(ip: str) -> str:
    """The client's address for the audit, if it is one."""
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return "unknown"


def _actor(user: User) -> Actor:
    return Actor(Channel.ADMIN, user_id=user.id, label=user.email)


async def begin(*, session: AsyncSession, user: User, secret_key: str,
                vault: Vault) -> tuple[str, SignInStage]:
    """A sign-in under way for `user`, who gave the right password: the token for its
    cookie, and whether it waits for a code or an enrolment (with its one secret)."""
    token = secrets.token_urlsafe(32)
    stage = SignInStage.ENROL if staff.needs_enrolment(user) else SignInStage.CODE
    sealed = vault.seal({"secret": pyotp.random_base32()}) if stage is SignInStage.ENROL else None
    session.add(PendingSignIn(token_hash=_hash(secret_key, token), user_id=user.id, stage=stage,
                              totp_sealed=sealed, expires_at=now() + PENDING_LIFETIME))
    await session.flush()
    return token, stage


async def _pending(session: AsyncSession, token: str | None, stage: SignInStage,
                   secret_key: str) -> PendingSignIn | None:
    """The sign-in a cookie's token names, if it is under way at `stage`; any other cookie
    value (a session's, a forged one, bytes from anywhere) names none."""
    if not token or len(token) > 64 or not set(token) <= TOKEN_CHARACTERS:
        return None
    found = await session.scalar(select(PendingSignIn).where(
        PendingSignIn.token_hash == _hash(secret_key, token), PendingSignIn.stage == stage)
        .execution_options(populate_existing=True))
    return found if found is not None and found.expires_at > now() else None


async def waiting(*, session: AsyncSession, token: str | None, stage: SignInStage,
                  secret_key: str) -> bool:
    """Whether a sign-in is under way at `stage` (to show its page)."""
    return await _pending(session, token, stage, secret_key) is not None


async def _attempt(session: AsyncSession, token: str | None, stage: SignInStage,
                   secret_key: str) -> tuple[PendingSignIn, User] | Outcome:
    """The sign-in and its user, the user's row locked; read again after the lock, since a
    parallel check may have counted, ended or locked meanwhile."""
    pending = await _pending(session, token, stage, secret_key)
    if pending is None:
        return Outcome.GONE
    user = await session.get(User, pending.user_id, with_for_update=True,
                             populate_existing=True)
    pending = await _pending(session, token, stage, secret_key)
    if user is None or pending is None:
        return Outcome.GONE
    if not user.is_active or user.role not in staff.CONSOLE_ROLES:
        await session.delete(pending)
        return Outcome.GONE
    if user.locked_at is not None:
        await session.delete(pending)
        return Outcome.LOCKED
    return pending, user


def _matching_step(totp: pyotp.TOTP, code: str) -> int | None:
    """The time step a code belongs to (now, or one step either side), if any: every
    step compared, as bytes, in constant time."""
    typed = "".join(ch for ch in code[:LONGEST_CODE] if ch in string.digits).encode()
    current = totp.timecode(now())
    found = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), typed):
            found = step
    return found


async def _good_code(session: AsyncSession, user: User, code: str, vault: Vault,
                     secret_key: str) -> bool:
    """A current authenticator code not used before, or an unused recovery code (spent)."""
    if user.totp_sealed and user.totp_enabled_at:
        totp = pyotp.TOTP(str(vault.open(user.totp_sealed)["secret"]))
        step = _matching_step(totp, code)
        if step is not None:
            spent = await session.execute(update(User).where(
                User.id == user.id,
                (User.totp_last_step.is_(None)) | (User.totp_last_step < step))
                .values(totp_last_step=step))
            return spent.rowcount == 1  # type: ignore[attr-defined]  # 0: used before
    typed = code[:LONGEST_CODE].strip().lower()
    spent = await session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == staff.keyed(secret_key, typed),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=now()))
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await audit.record(session=session, actor=_actor(user), action="account.recovery_code_used",
                       subject_type="user", subject_id=user.id)
    return True


async def verify(*, session: AsyncSession, token: str | None, code: str, vault: Vault,
                 secret_key: str, ip: str) -> Step:
    """Check the code typed for the sign-in `token` names; a wrong one is counted."""
    found = await _attempt(session, token, SignInStage.CODE, secret_key)
    if isinstance(found, Outcome):
        return Step(found)
    pending, user = found
    if await _good_code(session, user, code, vault, secret_key):
        await session.delete(pending)
        return Step(Outcome.PASSED, user)
    return await _wrong(session, pending, user, ip)


async def enrolment(*, session: AsyncSession, token: str | None, secret_key: str,
                    vault: Vault) -> tuple[str, str] | Outcome:
    """The secret this enrolment attempt shows (the same on every visit) and its
    otpauth:// URI for the QR code; else why there is none to show."""
    found = await _attempt(session, token, SignInStage.ENROL, secret_key)
    if isinstance(found, Outcome):
        return found
    pending, user = found
    if user.totp_enabled_at is not None:
        await session.delete(pending)
        return Outcome.TAKEN
    secret = str(vault.open(pending.totp_sealed or "")["secret"])
    return secret, pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


async def confirm_enrolment(*, session: AsyncSession, token: str | None, code: str,
                            vault: Vault, secret_key: str, ip: str) -> Step:
    """Switch the second factor on with a first good code for this attempt's secret, unless
    the account has one already; the recovery codes come back once."""
    found = await _attempt(session, token, SignInStage.ENROL, secret_key)
    if isinstance(found, Outcome):
        return Step(found)
    pending, user = found
    if user.totp_enabled_at is not None:
        await session.delete(pending)
        return Step(Outcome.TAKEN)
    sealed = pending.totp_sealed or ""
    step = _matching_step(pyotp.TOTP(str(vault.open(sealed)["secret"])), code)
    if step is None:
        return await _wrong(session, pending, user, ip)
    bound = await session.execute(
        update(User).where(User.id == user.id, User.totp_enabled_at.is_(None))
        .values(totp_sealed=sealed, totp_enabled_at=now(), totp_last_step=step))
    await session.delete(pending)
    if bound.rowcount != 1:  # type: ignore[attr-defined]
        return Step(Outcome.TAKEN)
    await session.execute(update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                     RecoveryCode.used_at.is_(None))
                          .values(used_at=now()))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=staff.keyed(secret_key, code))
                    for code in codes)
    await audit.record(session=session, actor=_actor(user), action="account.2fa_enabled",
                       subject_type="user", subject_id=user.id)
    return Step(Outcome.PASSED, user, codes)


async def _wrong(session: AsyncSession, pending: PendingSignIn, user: User, ip: str) -> Step:
    """Count a wrong code on the sign-in and on the account; void the one, lock the other."""
    moment = now()
    pending.failures += 1
    since = user.factor_failures_since
    if since is None or since <= moment - ACCOUNT_WINDOW:
        user.factor_failures, user.factor_failures_since = 1, moment
    else:
        user.factor_failures += 1
    await session.flush()  # counted now, whatever the caller does with `user` next
    if user.factor_failures >= TRIES_PER_ACCOUNT:
        await _lock(session, user, ip)
        return Step(Outcome.LOCKED, user, counted=True)
    if pending.failures >= TRIES_PER_SIGN_IN:
        await session.delete(pending)
        return Step(Outcome.VOID, user, counted=True)
    return Step(Outcome.WRONG, user, counted=True)


async def _lock(session: AsyncSession, user: User, ip: str) -> None:
    """Lock the account: no sign-in under way or session open survives it, and the audit
    event (news to admins) is written in the same transaction."""
    locked = await session.execute(
        update(User).where(User.id == user.id, User.locked_at.is_(None))
        .values(locked_at=now()), execution_options={"synchronize_session": "fetch"})
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        return
    await session.execute(delete(PendingSignIn).where(PendingSignIn.user_id == user.id),
                          execution_options={"synchronize_session": "fetch"})
    await staff.revoke_all(session=session, user_id=user.id)
    await audit.record(session=session, actor=Actor.system("console sign-in"),
                       action="account.locked", subject_type="user", subject_id=user.id,
                       data={"failures": user.factor_failures, "ip": _address(ip)})


async def unlock(*, session: AsyncSession, user_id: int, actor: Actor) -> User:
    """An admin lets a locked account sign in again, its count of wrong codes cleared."""
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound(AccountError.NOT_FOUND, "No such account.")
    if user.locked_at is None:
        raise Conflict(AccountError.NOT_LOCKED, "That account is not locked.")
    user.locked_at, user.factor_failures, user.factor_failures_since = None, 0, None
    await audit.record(session=session, actor=actor, action="account.unlocked",
                       subject_type="user", subject_id=user.id)
    return user


async def purge(*, session: AsyncSession) -> int:
    """Drop sign-ins that ended unfinished."""
    result = await session.execute(delete(PendingSignIn).where(
        PendingSignIn.expires_at < now()), execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
