"""Email-verification and password-reset tokens: signed, expiring, single use.

The token a user receives is an itsdangerous signature over a random id; the id's
row records purpose, owner, expiry and use, so a token works once and can be revoked.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.errors import AccountError
from core.accounts.models import AccountToken, TokenPurpose, User
from core.clock import now
from core.errors import InvalidInput

LIFETIMES = {
    TokenPurpose.VERIFY_EMAIL: timedelta(days=2),
    TokenPurpose.RESET_PASSWORD: timedelta(hours=1),
}


def _serializer(secret_key: str, purpose: TokenPurpose) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=f"chatcart.{purpose}")


async def issue(
    *, session: AsyncSession, secret_key: str, user: User, purpose: TokenPurpose
) -> str:
    """A new token for `purpose`; older unused ones of the same purpose stop working."""
    issued = now()
    await session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose,
               AccountToken.used_at.is_(None))
        .values(used_at=issued)
    )
    jti = secrets.token_urlsafe(32)
    session.add(AccountToken(jti=jti, purpose=purpose, user_id=user.id,
                             expires_at=issued + LIFETIMES[purpose]))
    await session.flush()
    return _serializer(secret_key, purpose).dumps(jti)


async def consume(
    *, session: AsyncSession, secret_key: str, token: str, purpose: TokenPurpose
) -> User:
    """Check and spend a token; returns its user. Raises with a message fit to show."""
    try:
        jti = _serializer(secret_key, purpose).loads(token)
    except BadSignature:
        raise InvalidInput(AccountError.TOKEN_INVALID, "That link is not valid.") from None
    row = await session.scalar(
        select(AccountToken).where(AccountToken.jti == jti, AccountToken.purpose == purpose))
    if row is None:
        raise InvalidInput(AccountError.TOKEN_INVALID, "That link is not valid.")
    if row.used_at is not None:
        raise InvalidInput(AccountError.TOKEN_USED, "That link has already been used.")
    spent_at = now()
    if row.expires_at <= spent_at:
        raise InvalidInput(AccountError.TOKEN_EXPIRED,
                           "That link has expired; please ask for a new one.")
    # Conditional update: two clicks racing on the same link, only one spends it.
    spent = await session.execute(
        update(AccountToken).where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=spent_at)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidInput(AccountError.TOKEN_USED, "That link has already been used.")
    user = await session.get(User, row.user_id)
    assert user is not None  # the foreign key cascades
    return user
