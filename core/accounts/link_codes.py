"""Linking a chat to an account by email: a six-digit code proves the person reads that inbox.

The first link for an address with no account creates a customer account (verified,
no password: one can be set later with a reset). A wrong code is counted, not raised,
so the count survives the turn; after `MAX_ATTEMPTS` the code is spent.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import one_time_codes
from core.accounts import identities, linking
from core.accounts.errors import AccountError
from core.accounts.models import ChatIdentity, LinkCode, Role, User
from core.accounts.service import get_by_email, normalize_email
from core.audit import service as audit
from core.audit.actor import Actor
from core.carts.totals import CartView
from core.clock import now
from core.errors import Forbidden, InvalidInput

LIFETIME = timedelta(minutes=15)
MAX_ATTEMPTS = 5
CODES_PER_HOUR = 5
# Wrong guesses at one address's codes in a day: beyond this no new code is issued,
# so guessing one in a million stays hopeless however many chats try.
FAILURES_PER_DAY = 10


def _digest(secret_key: str, identity_id: int, email: str, code: str) -> str:
    message = f"{identity_id}:{email}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedCode:
    email: str
    code: str
    minutes: int


async def issue(*, session: AsyncSession, secret_key: str, identity: ChatIdentity,
                email: str) -> IssuedCode:
    """A new code for `email`; earlier unused codes of this chat stop working."""
    address = normalize_email(email)
    issued = now()
    # Per chat and per address: nobody can flood an inbox from many chats either.
    recent = await session.scalar(
        select(func.count()).select_from(LinkCode).where(
            (LinkCode.identity_id == identity.id) | (LinkCode.email == address),
            LinkCode.created_at > issued - timedelta(hours=1)))
    if (recent or 0) >= CODES_PER_HOUR:
        raise InvalidInput(AccountError.LINK_TOO_MANY_CODES,
                           "That's a lot of codes in one hour. Please wait a while and try again.")
    failures = await session.scalar(
        select(func.coalesce(func.sum(LinkCode.attempts), 0)).where(
            LinkCode.email == address, LinkCode.created_at > issued - timedelta(days=1)))
    if (failures or 0) >= FAILURES_PER_DAY:
        raise InvalidInput(AccountError.LINK_TOO_MANY_CODES,
                           "Too many wrong codes were typed for that address today. Please "
                           "try again tomorrow, or talk to a person.")
    await session.execute(
        update(LinkCode).where(LinkCode.identity_id == identity.id, LinkCode.used_at.is_(None))
        .values(used_at=issued))
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(LinkCode(identity_id=identity.id, email=address, created_at=issued,
                         code_hash=_digest(secret_key, identity.id, address, code),
                         expires_at=issued + LIFETIME))
    await session.flush()
    return IssuedCode(address, code, int(LIFETIME.total_seconds() // 60))


class Outcome(StrEnum):
    LINKED = "linked"
    WRONG = "wrong"        # try again; `tries_left` says how often
    SPENT = "spent"        # expired, used up, or none asked for: ask for a new one


@dataclass(frozen=True, slots=True)
class Confirmation:
    outcome: Outcome
    tries_left: int = 0
    user: User | None = None
    created: bool = False
    cart: CartView | None = None


async def pending_email(*, session: AsyncSession, identity: ChatIdentity) -> str | None:
    """The address a live code was sent to, if any."""
    row = await _live(session, identity)
    return row.email if row else None


async def _live(session: AsyncSession, identity: ChatIdentity) -> LinkCode | None:
    return await session.scalar(
        select(LinkCode).where(LinkCode.identity_id == identity.id, LinkCode.used_at.is_(None),
                               LinkCode.expires_at > now())
        .order_by(LinkCode.id.desc()).limit(1))


async def _spend(session: AsyncSession, secret_key: str, identity: ChatIdentity, code: str
                 ) -> LinkCode | Confirmation:
    """The code's row, spent, when `code` is right; else what to tell the shopper."""
    row = await _live(session, identity)
    if row is None:
        return Confirmation(Outcome.SPENT)
    typed = "".join(ch for ch in code if ch.isdigit())
    right = hmac.compare_digest(row.code_hash, _digest(secret_key, identity.id, row.email, typed))
    left = await one_time_codes.spend(session, LinkCode, row.id, right=right,
                                      max_attempts=MAX_ATTEMPTS, at=now())
    if left is not None:
        return Confirmation(Outcome.WRONG, left) if left else Confirmation(Outcome.SPENT)
    return row


async def confirm_address(*, session: AsyncSession, secret_key: str, identity: ChatIdentity,
                          code: str) -> tuple[Confirmation, str | None]:
    """Check a typed code and give the address it proves, linking nothing (a change of an
    account's address, core.accounts.service.change_email, uses it)."""
    spent = await _spend(session, secret_key, identity, code)
    if isinstance(spent, Confirmation):
        return spent, None
    return Confirmation(Outcome.LINKED), spent.email


async def confirm(
    *, session: AsyncSession, secret_key: str, identity: ChatIdentity, code: str,
    chat_session_key: str, currency: str, actor: Actor,
) -> Confirmation:
    """Check a typed code; on success link this chat (and its cart) to the address's account."""
    row = await _spend(session, secret_key, identity, code)
    if isinstance(row, Confirmation):
        return row
    user, created = await _account_for(session, row.email, actor)
    if not user.is_active:
        raise Forbidden(AccountError.DISABLED, "The account for that address is disabled.")
    if user.role is not Role.CUSTOMER:  # a chat must never carry a staff account's powers
        raise Forbidden(AccountError.STAFF_NOT_LINKABLE,
                        "That address belongs to a staff account, which can't be linked to a "
                        "chat. Please use a personal address to shop.")
    if user.email_verified_at is None:
        user.email_verified_at = now()
    if identity.user_id not in (None, user.id):
        await identities.unlink(session=session, identity=identity, actor=actor)
    _, view = await linking.link_and_merge(
        session=session, identity=identity, user=user, chat_session_key=chat_session_key,
        currency=currency, actor=actor)
    return Confirmation(Outcome.LINKED, user=user, created=created, cart=view)


async def _account_for(session: AsyncSession, email: str, actor: Actor) -> tuple[User, bool]:
    user = await get_by_email(session=session, email=email)
    if user is not None:
        return user, False
    # No password: the account is reached through linked chats until one is set by reset.
    user = User(email=email, password_hash="", role=Role.CUSTOMER, email_verified_at=now())
    session.add(user)
    await session.flush()
    await audit.record(session=session, actor=actor, action="account.registered",
                       subject_type="user", subject_id=user.id,
                       data={"role": Role.CUSTOMER.value, "via": "chat_link"})
    return user, True

