"""Slowing password guessing down, without a CAPTCHA and without a lockout anyone can cause.

Failures are counted per normalised address (the one `authenticate` looks up, so
`support2@ｅxample.com` counts with `support2@example.com`) and per client network (an
IPv4 address, or an IPv6 /64, which one client commonly holds whole). After `FREE`
failures under a key, the next attempt waits 2^(n - FREE) seconds from the last failure,
at most `CAP`, and is refused unevaluated until then: 12 wrong passwords cost about nine
minutes, then one guess every five. A hard lockout (the old 5 per address, 20 per IP)
let anyone shut the real owner out, and behind a proxy every member of staff at once.

The rows live in the database so every process agrees; an attempt holds its keys' rows
locked while it runs (in address-then-network order, never the other way), so a burst
of requests cannot slip several guesses past one wait. A right password clears its
address; an hour with no failure forgets a key.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from datetime import timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import SignInThrottle
from core.clock import now
from core.db import insert_or_ignore

FREE = {"address": 3, "network": 10}  # a network serves several people: more to spare
CAP = timedelta(minutes=5)
QUIET = timedelta(hours=1)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def network(ip: str) -> str:
    """The client's network as a key: IPv4 whole, IPv6 to its /64 (anything else, which
    no well-behaved server passes on, by its digest)."""
    try:
        found = ipaddress.ip_address(ip.strip())
    except ValueError:
        return f"other-{_digest(ip)[:32]}"
    if isinstance(found, ipaddress.IPv6Address):
        if found.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is 192.0.2.1
            return str(found.ipv4_mapped)
        return str(ipaddress.IPv6Network((found, 64), strict=False))
    return str(found)


def address_key(address: str) -> str:
    """By its digest: whatever was typed makes a bounded key, and no address is listed in
    the clear."""
    return f"address:{_digest(address)}"


def keys(address: str, ip: str) -> list[tuple[str, int]]:
    """The keys an attempt counts under, in the order their rows are locked."""
    return [(address_key(address), FREE["address"]), (f"network:{network(ip)}", FREE["network"])]


async def _row(session: AsyncSession, key: str, lock: bool = False) -> SignInThrottle:
    await insert_or_ignore(session, SignInThrottle, {"key": key, "failures": 0}, ["key"])
    row = await session.get(SignInThrottle, key, with_for_update=lock, populate_existing=True)
    if row is None:  # swept between the two statements: it counted nothing
        row = SignInThrottle(key=key, failures=0)
        session.add(row)
    return row


def delay(failures: int, free: int) -> timedelta:
    """How long after the last failure the next attempt waits."""
    if failures < free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - free, 20)), CAP)


async def wait(*, session: AsyncSession, address: str, ip: str) -> int:
    """Seconds until an attempt for `address` from `ip` may be evaluated (0: now). The
    keys' rows stay locked until the caller's transaction ends."""
    return await wait_for(session=session, keys=keys(address, ip))


async def wait_for(*, session: AsyncSession, keys: list[tuple[str, int]]) -> int:
    """The same for any guess counted under `keys` ((key, free failures), locked in that
    order): an order number and an email typed together, say."""
    moment, longest = now(), timedelta(0)
    for key, free in keys:
        row = await _row(session, key, lock=True)
        if row.last_failure_at is None or row.last_failure_at < moment - QUIET:
            continue
        longest = max(longest, row.last_failure_at + delay(row.failures, free) - moment)
    return math.ceil(longest.total_seconds()) if longest > timedelta(0) else 0


async def failed(*, session: AsyncSession, address: str, ip: str) -> None:
    """Count a wrong password under both keys (their rows are locked by `wait`)."""
    await failed_for(session=session, keys=keys(address, ip))


async def failed_for(*, session: AsyncSession, keys: list[tuple[str, int]]) -> None:
    moment = now()
    for key, _ in keys:
        row = await _row(session, key)
        stale = row.last_failure_at is None or row.last_failure_at < moment - QUIET
        row.failures = 1 if stale else row.failures + 1
        row.last_failure_at = moment


async def succeeded(*, session: AsyncSession, address: str) -> None:
    """The right password clears its address (the network keeps its count)."""
    row = await session.get(SignInThrottle, address_key(address))
    if row is not None:
        row.failures, row.last_failure_at = 0, None


async def purge(*, session: AsyncSession) -> int:
    """Forget keys with nothing counted or nothing for a while, skipping rows an attempt
    holds (so the sweep never waits on, or deadlocks with, a sign-in)."""
    stale = (select(SignInThrottle.key)
             .where(or_(SignInThrottle.last_failure_at.is_(None),
                        SignInThrottle.last_failure_at < now() - QUIET - CAP))
             .with_for_update(skip_locked=True))
    result = await session.execute(
        delete(SignInThrottle).where(SignInThrottle.key.in_(stale.scalar_subquery())),
        execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
