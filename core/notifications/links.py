"""Signed, expiring links to a shopper's notification choices: the page every mail links to
(`manage`) and one-click unsubscribe from one category by mail (`unsubscribe:<category>`).

A token is `<payload>.<mac>` in base64url: the payload is holder, purpose, expiry (Unix
seconds) and a random nonce; the MAC is HMAC-SHA256 under a key derived from the shop's
secret, compared in constant time. No sign-in is needed, so the token is the whole
authority: it names a holder (`user:<id>` or a keyed digest, never an address), expires
after `LIFETIME`, and once a save or an unsubscribe used its nonce
(`notification_link_uses`) it opens nothing again. Anything else is "not found".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.db import PURGE_CHUNK, bounded_delete
from core.notifications.kinds import TRANSACTIONAL, Category
from core.notifications.models import NotificationLinkUse

LIFETIME = timedelta(days=60)
MAX_TOKEN = 400          # longer input is not a token of ours: refused before any work
MANAGE = "manage"
UNSUBSCRIBE = "unsubscribe"
_MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class Link:
    holder: str
    purpose: str             # "manage" or "unsubscribe:<category>"
    expires: datetime
    nonce: str

    @property
    def category(self) -> Category | None:
        """The category a one-click unsubscribe link turns off by mail."""
        verb, _sep, name = self.purpose.partition(":")
        if verb != UNSUBSCRIBE:
            return None
        try:
            category = Category(name)
        except ValueError:
            return None
        return None if category in TRANSACTIONAL else category


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    def __init__(self, secret_key: str) -> None:
        self._key = hmac.digest(secret_key.encode(), b"chatcart.notifications.link.v1",
                                hashlib.sha256)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.digest(self._key, payload, hashlib.sha256)[:_MAC_BYTES]

    def make(self, holder: str, purpose: str = MANAGE, *, at: datetime | None = None) -> str:
        """A fresh token for `holder`, valid for `LIFETIME` from `at` (now)."""
        expires = int(((at or now()) + LIFETIME).timestamp())
        payload = "|".join((holder, purpose, str(expires), secrets.token_hex(16))).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def unsubscribe(self, holder: str, category: Category) -> str:
        return self.make(holder, f"{UNSUBSCRIBE}:{category.value}")

    def read(self, token: object, purpose: str | None = None) -> Link | None:
        """The link a token stands for, if this key signed it, it has not expired and (when
        given) it is for `purpose` (a prefix: "unsubscribe" matches any category); None
        otherwise. Whether it was used already is `used`'s question (it needs the DB)."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN or token.count(".") != 1:
            return None
        body, mac = token.split(".")
        try:
            payload, given = _unb64(body), _unb64(mac)
        except (binascii.Error, ValueError):
            return None
        if _b64(payload) != body or _b64(given) != mac:  # one spelling per token
            return None
        if not hmac.compare_digest(given, self._mac(payload)):
            return None
        try:
            holder, kind, expires, nonce = payload.decode().split("|")
            moment = datetime.fromtimestamp(int(expires), now().tzinfo)
        except (UnicodeDecodeError, ValueError, OverflowError, OSError):
            return None
        if moment <= now() or not holder or len(nonce) != 32:
            return None
        if purpose is not None and kind != purpose and not kind.startswith(f"{purpose}:"):
            return None
        return Link(holder, kind, moment, nonce)


async def used(*, session: AsyncSession, link: Link) -> bool:
    """Whether a save or an unsubscribe already used this link."""
    found = await session.scalar(select(NotificationLinkUse.nonce)
                                 .where(NotificationLinkUse.nonce == link.nonce))
    return found is not None


async def use(*, session: AsyncSession, link: Link) -> bool:
    """Spend the link in the caller's transaction; False when it was spent already (also
    by a request racing this one: the insert loses on the key, in a savepoint)."""
    if await used(session=session, link=link):
        return False
    try:
        async with session.begin_nested():
            session.add(NotificationLinkUse(nonce=link.nonce, expires_at=link.expires))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def forget_expired(*, session: AsyncSession, limit: int = PURGE_CHUNK) -> int:
    """Spent links past their expiry cannot be read again anyway: their nonces can go,
    at most `limit` a call."""
    result = await session.execute(bounded_delete(
        NotificationLinkUse, NotificationLinkUse.expires_at < now(), limit=limit))
    return int(getattr(result, "rowcount", 0) or 0)
