"""The password slowdown's rules: free failures, a doubling wait up to five minutes, an hour
without failures forgets, one key per normalised address and per client network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.accounts import staff, throttle
from core.accounts.errors import AccountError
from core.accounts.models import Role
from core.errors import Forbidden, InvalidInput
from tests import factories

ADDRESS = "help@example.com"


def test_the_wait_doubles_after_three_failures_up_to_five_minutes():
    waits = [throttle.delay(n, throttle.FREE["address"]).total_seconds() for n in range(15)]
    assert waits == [0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    assert throttle.delay(10**6, 3) == throttle.CAP


def test_a_client_is_its_address_or_its_ipv6_64():
    assert throttle.network("203.0.113.9") == "203.0.113.9"
    assert throttle.network("::ffff:203.0.113.9") == "203.0.113.9"
    assert throttle.network("2001:db8:1:2:aaaa::1") == throttle.network("2001:db8:1:2::ff")
    assert throttle.network("2001:db8:1:2::1") != throttle.network("2001:db8:1:3::1")
    assert throttle.network("not an address") == throttle.network("not an address")
    assert throttle.network("not an address").startswith("other-")


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment


async def _attempt(shop, password: str, email: str = ADDRESS, ip: str = "198.51.100.1"):
    async with shop.transaction() as session:
        try:
            return await staff.check_password(session=session, email=email,
                                              password=password, ip=ip)
        except (Forbidden, InvalidInput) as problem:
            return problem


async def test_waits_grow_to_the_cap_and_an_hour_of_quiet_forgets(shop, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(throttle, "now", clock)
    async with shop.transaction() as session:
        await factories.user(session, ADDRESS, role=Role.SUPPORT)
    seen = []
    for _ in range(14):
        problem = await _attempt(shop, "wrong password")
        assert problem.code is AccountError.BAD_CREDENTIALS, "evaluated"
        async with shop.transaction() as session:
            seen.append(await throttle.wait(session=session, address=ADDRESS,
                                            ip="198.51.100.1"))
        if seen[-1]:
            refused = await _attempt(shop, "correct horse battery")
            assert refused.details["retry_after"] == seen[-1]
        clock.moment += timedelta(seconds=seen[-1])
    assert seen == [0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    clock.moment += throttle.QUIET
    let_in = await _attempt(shop, "correct horse battery")
    assert getattr(let_in, "email", None) == ADDRESS


async def test_every_spelling_of_an_address_counts_as_the_address(shop, monkeypatch):
    monkeypatch.setattr(throttle, "now", Clock())
    for spelling in (ADDRESS, " Help@Example.COM ", "help@ｅｘａｍｐｌｅ.com"):
        await _attempt(shop, "wrong password", email=spelling)
    refused = await _attempt(shop, "anything", email="HELP@ＥＸＡＭＰＬＥ.ＣＯＭ", ip="192.0.2.7")
    assert refused.code is AccountError.TOO_MANY_ATTEMPTS and refused.details["retry_after"] == 1


async def test_old_and_cleared_keys_are_swept(shop, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(throttle, "now", clock)
    await _attempt(shop, "wrong password")
    await _attempt(shop, "wrong password", email="other@example.com", ip="192.0.2.8")
    async with shop.transaction() as session:
        assert await throttle.purge(session=session) == 0, "recent failures are kept"
    clock.moment += throttle.QUIET + throttle.CAP + timedelta(seconds=1)
    async with shop.transaction() as session:
        assert await throttle.purge(session=session) == 4


@pytest.mark.parametrize("typed", ["", "unknown", "x" * 500, "a\x00b@example.com", "\udcff"])
def test_anything_typed_or_sent_makes_a_bounded_printable_key(typed):
    for key, _ in throttle.keys(typed, typed):
        assert len(key) <= 100 and key.isprintable() and key.isascii()


async def test_a_nul_in_the_address_is_counted_not_an_error(shop):
    for _ in range(4):
        problem = await _attempt(shop, "wrong password", email="a\x00b@example.com")
    assert problem.code is AccountError.TOO_MANY_ATTEMPTS
