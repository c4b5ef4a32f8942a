"""Proving a phone is the shopper's before they agree to SMS at it: a six-digit code is
texted to the number, and only the right code typed back records the consent.

The rules follow core.accounts.link_codes: only a keyed hash of the code is kept (with the
shop's secret key, bound to the holder and the number), it works for `LIFETIME`, a new code
replaces the holder's earlier ones, `MAX_ATTEMPTS` wrong tries spend it, and the typed code
is compared in constant time. A wrong try is counted, not raised, so the count survives the
turn. Codes per holder and per number are bounded, so nobody floods a stranger's phone.
Sending the code is the caller's (the bot texts it through its Twilio sender).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import one_time_codes
from core.audit import service as audit
from core.audit.actor import Actor
from core.clock import now
from core.crypto import Vault
from core.db import PURGE_CHUNK, bounded_delete
from core.errors import InvalidInput
from core.i18n import _
from core.notifications import preferences
from core.notifications.models import SmsCode

LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
CODES_PER_HOUR = 5       # per holder, and per number (from any chat)
FAILURES_PER_DAY = 10    # wrong tries at one number's codes in a day: then no new code
KEPT = timedelta(days=1)  # spent codes are kept this long, for the counts above


class SmsCodeError(StrEnum):
    TOO_MANY = "sms_code.too_many"


def _digest(secret_key: str, holder: str, phone: str, code: str) -> str:
    message = f"sms:{holder}:{phone}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedCode:
    phone: str
    code: str
    minutes: int


async def issue(*, session: AsyncSession, secret_key: str, vault: Vault, holder: str,
                phone_e164: str, actor: Actor) -> IssuedCode:
    """A new code for `phone_e164` (checked E.164 by the caller); the holder's earlier
    unused codes stop working. Raises InvalidInput when too many were asked for."""
    issued = now()
    phone_digest = vault.digest(f"phone:{phone_e164}")
    recent = await session.scalar(
        select(func.count()).select_from(SmsCode).where(
            (SmsCode.holder == holder) | (SmsCode.phone_digest == phone_digest),
            SmsCode.created_at > issued - timedelta(hours=1)))
    if (recent or 0) >= CODES_PER_HOUR:
        raise InvalidInput(SmsCodeError.TOO_MANY, _(
            "That's a lot of codes in one hour. Please wait a while and try again."))
    failures = await session.scalar(
        select(func.coalesce(func.sum(SmsCode.attempts), 0)).where(
            SmsCode.phone_digest == phone_digest, SmsCode.created_at > issued - KEPT))
    if (failures or 0) >= FAILURES_PER_DAY:
        raise InvalidInput(SmsCodeError.TOO_MANY, _(
            "Too many wrong codes were typed for that number today. Please try again "
            "tomorrow."))
    await session.execute(update(SmsCode).where(SmsCode.holder == holder,
                                                SmsCode.used_at.is_(None))
                          .values(used_at=issued))
    code = f"{secrets.randbelow(10**6):06d}"
    row = SmsCode(holder=holder, phone_sealed=vault.seal({"phone": phone_e164}),
                  phone_digest=phone_digest, code_hash=_digest(secret_key, holder,
                                                               phone_e164, code),
                  created_at=issued, expires_at=issued + LIFETIME)
    session.add(row)
    await session.flush()
    await audit.record(session=session, actor=actor, action="notifications.sms_code_sent",
                       subject_type="sms_code", subject_id=row.id, data={})
    return IssuedCode(phone_e164, code, int(LIFETIME.total_seconds() // 60))


class Outcome(StrEnum):
    AGREED = "agreed"
    WRONG = "wrong"   # try again; `tries_left` says how often
    SPENT = "spent"   # expired, used up, or none asked for: ask for a new one


@dataclass(frozen=True, slots=True)
class Check:
    outcome: Outcome
    tries_left: int = 0
    phone: str | None = None


async def confirm(*, session: AsyncSession, secret_key: str, vault: Vault, holder: str,
                  code: str, actor: Actor, at: datetime | None = None) -> Check:
    """Check a typed code; when it is right, record the holder's consent to SMS at the
    number it was texted to (preferences.agree_to_sms, audited)."""
    moment = at or now()
    row = await session.scalar(
        select(SmsCode).where(SmsCode.holder == holder, SmsCode.used_at.is_(None),
                              SmsCode.expires_at > moment)
        .order_by(SmsCode.id.desc()).limit(1))
    if row is None:
        return Check(Outcome.SPENT)
    try:
        phone = str(vault.open(row.phone_sealed).get("phone") or "")
    except ValueError:
        phone = ""
    typed = "".join(ch for ch in code if ch.isdigit())[:12]
    right = bool(phone) and hmac.compare_digest(row.code_hash,
                                                _digest(secret_key, holder, phone, typed))
    left = await one_time_codes.spend(session, SmsCode, row.id, right=right,
                                      max_attempts=MAX_ATTEMPTS, at=moment)
    if left is not None:
        return Check(Outcome.WRONG, left) if left else Check(Outcome.SPENT)
    await preferences.agree_to_sms(session=session, holder=holder, phone_e164=phone,
                                   vault=vault, actor=actor, at=moment)
    return Check(Outcome.AGREED, phone=phone)


async def purge_old(*, session: AsyncSession, limit: int = PURGE_CHUNK) -> int:
    """Codes expired a day ago (kept that long for the counts), at most `limit` a call."""
    result = await session.execute(bounded_delete(
        SmsCode, SmsCode.expires_at < now() - KEPT, limit=limit))
    return int(getattr(result, "rowcount", 0) or 0)
