"""Web push subscriptions, one per browser, each made from a web chat session.

A subscription's endpoint is a URL the shop will later POST to, given by a browser, so it
is checked like any outside URL before it is kept (`refusal`): https on the default port
to a public host name, never loopback, private or link-local addresses (an SSRF door
otherwise), unless PUSH_ALLOW_LOCAL_ENDPOINTS is set for a test's local push service. The
sender checks again where the name resolves to (bot/notice_push.py). The keys must be a
P-256 point and a 16-byte secret, or no message could be encrypted to them.

Order news reaches every live subscription of the order's web chat (`recipients`), as
`Recipient(Channel.PUSH, "<subscription id>")`, within the holder's choices like any
channel. A push service's 404/410 ends the subscription (`gone`).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import service as audit
from core.audit.actor import Actor
from core.clock import now
from core.crypto import Vault
from core.db import PURGE_CHUNK, bounded_delete, insert_or_ignore
from core.notifications.events import Channel, Recipient
from core.notifications.models import PushSubscription
from core.notifications.service import KEEP
from core.outbox.service import VAULT

MAX_ENDPOINT = 1024      # the push services' own are 150-500 characters
MAX_KEY = 128            # a base64url P-256 point is 87 characters, an auth secret 22
PER_CHAT = 5             # live subscriptions one chat may hold; a sixth ends the oldest
TOP_LABEL = re.compile(r"[a-z][a-z0-9-]*")
LOCAL_NAMES = ("localhost", ".localhost", ".local", ".internal", ".home.arpa", ".lan")


class Refusal(StrEnum):
    """Why a subscription is refused (the web chat says it in words)."""
    ENDPOINT = "endpoint"   # not a public https URL
    KEYS = "keys"           # not a P-256 key and a 16-byte auth secret


def _unb64(text: object, limit: int) -> bytes | None:
    if not isinstance(text, str) or not 0 < len(text) <= limit:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def public_host(host: str) -> bool:
    """Whether a host name or address literal is one of the open internet's."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(LOCAL_NAMES):
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        pass
    # A name, then, with a real top-level label: `127.1`, `0x7f.1` or `2130706433` are
    # addresses to a resolver (inet_aton's shorthands), however they are spelled.
    return "." in host and TOP_LABEL.fullmatch(host.rsplit(".", 1)[1]) is not None


def endpoint_refused(endpoint: object, allow_local: bool = False) -> bool:
    """Whether the shop must not POST to `endpoint` (see the module's docstring)."""
    if not isinstance(endpoint, str) or not 0 < len(endpoint) <= MAX_ENDPOINT:
        return True
    if any(ch.isspace() or ord(ch) < 32 for ch in endpoint):
        return True
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return True
    if not parts.hostname or parts.username is not None or parts.fragment:
        return True
    if allow_local:
        return parts.scheme not in ("https", "http")
    return parts.scheme != "https" or port not in (None, 443) or not public_host(parts.hostname)


def keys_refused(p256dh: object, auth: object) -> bool:
    point, secret = _unb64(p256dh, MAX_KEY), _unb64(auth, MAX_KEY)
    if point is None or secret is None or len(secret) != 16:
        return True
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return True
    return len(point) != 65


def refusal(endpoint: object, p256dh: object, auth: object,
            allow_local: bool = False) -> Refusal | None:
    if endpoint_refused(endpoint, allow_local):
        return Refusal.ENDPOINT
    if keys_refused(p256dh, auth):
        return Refusal.KEYS
    return None


def _vault(session: AsyncSession) -> Vault:
    vault = session.info.get(VAULT)
    if not isinstance(vault, Vault):
        raise RuntimeError("push subscriptions need the shop's Vault in session.info")
    return vault


async def _live(session: AsyncSession, chat_key: str) -> list[PushSubscription]:
    return list(await session.scalars(
        select(PushSubscription).where(PushSubscription.chat_key == chat_key,
                                       PushSubscription.gone_at.is_(None))
        .order_by(PushSubscription.id)))


def _end(row: PushSubscription) -> None:
    row.gone_at, row.sealed = now(), None


async def subscribe(*, session: AsyncSession, chat_key: str, endpoint: str, p256dh: str,
                    auth: str, actor: Actor, allow_local: bool = False) -> PushSubscription:
    """Keep a browser's subscription for `chat_key` (the same browser again: its row is
    renewed, moving to this chat); raises ValueError(Refusal) for one that must not be."""
    refused = refusal(endpoint, p256dh, auth, allow_local)
    if refused is not None:
        raise ValueError(refused)
    vault = _vault(session)
    digest = vault.digest(f"push:{endpoint}")
    # Two tabs subscribing one browser at once: both may miss the row, and one insert
    # loses on the unique digest; inserting it if missing, then reading it, is race-free.
    await insert_or_ignore(session, PushSubscription,
                           {"chat_key": chat_key, "endpoint_digest": digest,
                            "created_at": now()}, ["endpoint_digest"])
    row = await session.scalar(select(PushSubscription)
                               .where(PushSubscription.endpoint_digest == digest)
                               .with_for_update())
    assert row is not None  # inserted or already there
    row.chat_key, row.gone_at = chat_key, None
    row.sealed = vault.seal({"endpoint": endpoint, "p256dh": p256dh, "auth": auth})
    await session.flush()
    for old in (await _live(session, chat_key))[:-PER_CHAT]:
        if old.id != row.id:
            _end(old)
    await audit.record(session=session, actor=actor, action="notifications.push_subscribed",
                       subject_type="push_subscriptions", subject_id=row.id)
    return row


async def unsubscribe(*, session: AsyncSession, chat_key: str, endpoint: object,
                      actor: Actor) -> bool:
    """End `chat_key`'s subscription at `endpoint`; False when this chat has none there
    (another chat's subscription is not this chat's to end)."""
    if not isinstance(endpoint, str) or len(endpoint) > MAX_ENDPOINT:
        return False
    digest = _vault(session).digest(f"push:{endpoint}")
    row = await session.scalar(select(PushSubscription).where(
        PushSubscription.endpoint_digest == digest, PushSubscription.chat_key == chat_key,
        PushSubscription.gone_at.is_(None)))
    if row is None:
        return False
    _end(row)
    await audit.record(session=session, actor=actor, action="notifications.push_unsubscribed",
                       subject_type="push_subscriptions", subject_id=row.id)
    return True


async def recipients(*, session: AsyncSession, chat_key: str | None) -> list[Recipient]:
    """The live subscriptions of a web chat, as recipients of its news."""
    if not chat_key or not chat_key.startswith("web:"):
        return []
    return [Recipient(Channel.PUSH, str(row.id)) for row in await _live(session, chat_key)]


async def opened(*, session: AsyncSession, subscription_id: int,
                 vault: Vault) -> dict[str, Any] | None:
    """{endpoint, p256dh, auth} of a live subscription; None once it is gone."""
    row = await session.get(PushSubscription, subscription_id)
    if row is None or row.gone_at is not None or row.sealed is None:
        return None
    try:
        return vault.open(row.sealed)
    except ValueError:
        return None


async def gone(*, session: AsyncSession, subscription_id: int, reason: str) -> None:
    """The push service says this subscription no longer exists: nothing more goes to it."""
    row = await session.get(PushSubscription, subscription_id)
    if row is None or row.gone_at is not None:
        return
    _end(row)
    await audit.record(session=session, actor=Actor.system("push"),
                       action="notifications.push_gone", subject_type="push_subscriptions",
                       subject_id=row.id, data={"reason": reason[:80]})


async def purge_ended(*, session: AsyncSession, keep: timedelta = KEEP,
                      limit: int = PURGE_CHUNK) -> int:
    """Forget subscriptions ended longer ago than `keep` (the sweeper's upkeep): by then the
    deliveries naming them are forgotten too (core.notifications.service.purge_old), so
    an id a database hands out again can meet no old delivery key. At most `limit` a call."""
    result = await session.execute(bounded_delete(
        PushSubscription, PushSubscription.gone_at.is_not(None),
        PushSubscription.gone_at < now() - keep, limit=limit))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
