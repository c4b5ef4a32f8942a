"""Linking a chat to an account by a mailed code: the rules behind `/link`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.accounts import identities, link_codes
from core.accounts import service as accounts
from core.accounts.errors import AccountError
from core.accounts.link_codes import MAX_ATTEMPTS, Outcome
from core.accounts.models import LinkCode
from core.clock import now
from core.errors import Forbidden, InvalidInput
from tests import factories
from tests.conftest import SECRET
from tests.factories import ADMIN


async def _identity(session, user_id: str = "42"):
    return await identities.identify(session=session, platform="telegram",
                                     platform_user_id=user_id)


async def _confirm(session, identity, code):
    return await link_codes.confirm(session=session, secret_key=SECRET, identity=identity,
                                    code=code, chat_session_key=f"telegram:{identity.id}",
                                    currency="EUR", actor=ADMIN)


async def test_a_code_links_the_chat_and_makes_a_verified_account_without_a_password(shop):
    async with shop.transaction() as session:
        identity = await _identity(session)
        issued = await link_codes.issue(session=session, secret_key=SECRET, identity=identity,
                                        email=" Ann@Example.COM ")
        assert issued.email == "ann@example.com" and len(issued.code) == 6
        stored = await session.scalar(select(LinkCode))
        assert issued.code not in stored.code_hash  # only a keyed hash is kept
        result = await _confirm(session, identity, f"{issued.code[:3]} {issued.code[3:]}")
        assert result.outcome is Outcome.LINKED and result.created
        assert identity.user_id == result.user.id and result.user.is_verified
    async with shop.transaction() as session:
        with pytest.raises(InvalidInput):  # no password until one is set by reset
            await accounts.authenticate(session=session, email="ann@example.com",
                                        password="not-a-real-password-at-all")


async def test_an_existing_account_is_reused_and_a_code_works_once(shop):
    async with shop.transaction() as session:
        user = await factories.user(session, "ann@example.com")
        identity = await _identity(session)
        issued = await link_codes.issue(session=session, secret_key=SECRET, identity=identity,
                                        email="ann@example.com")
        result = await _confirm(session, identity, issued.code)
        assert result.user.id == user.id and not result.created
        assert (await _confirm(session, identity, issued.code)).outcome is Outcome.SPENT


async def test_wrong_codes_are_counted_and_the_code_is_spent_after_the_last_try(shop):
    async with shop.transaction() as session:
        identity = await _identity(session)
        issued = await link_codes.issue(session=session, secret_key=SECRET, identity=identity,
                                        email="ann@example.com")
        wrong = "000000" if issued.code != "000000" else "111111"
        lefts = [(await _confirm(session, identity, wrong)).tries_left
                 for _ in range(MAX_ATTEMPTS - 1)]
        assert lefts == [4, 3, 2, 1]
        assert (await _confirm(session, identity, wrong)).outcome is Outcome.SPENT
        assert (await _confirm(session, identity, issued.code)).outcome is Outcome.SPENT
        assert identity.user_id is None


async def test_a_code_expires_and_a_new_one_replaces_the_old(shop):
    async with shop.transaction() as session:
        identity = await _identity(session)
        first = await link_codes.issue(session=session, secret_key=SECRET, identity=identity,
                                       email="ann@example.com")
        second = await link_codes.issue(session=session, secret_key=SECRET, identity=identity,
                                        email="ann@example.com")
        if first.code != second.code:
            assert (await _confirm(session, identity, first.code)).outcome is Outcome.WRONG
        await session.execute(update(LinkCode).values(expires_at=now() - timedelta(seconds=1)))
        assert (await _confirm(session, identity, second.code)).outcome is Outcome.SPENT


async def test_codes_are_rate_limited_per_chat_and_per_address(shop):
    async with shop.transaction() as session:
        identity = await _identity(session, "1")
        for _ in range(link_codes.CODES_PER_HOUR):
            await link_codes.issue(session=session, secret_key=SECRET, identity=identity,
                                   email="ann@example.com")
        with pytest.raises(InvalidInput) as refused:
            await link_codes.issue(session=session, secret_key=SECRET, identity=identity,
                                   email="bob@example.com")
        assert refused.value.code == AccountError.LINK_TOO_MANY_CODES
        other = await _identity(session, "2")  # another chat cannot flood ann's inbox either
        with pytest.raises(InvalidInput):
            await link_codes.issue(session=session, secret_key=SECRET, identity=other,
                                   email="ann@example.com")


async def test_bad_addresses_and_disabled_accounts_are_refused(shop):
    async with shop.transaction() as session:
        identity = await _identity(session)
        with pytest.raises(InvalidInput) as bad:
            await link_codes.issue(session=session, secret_key=SECRET, identity=identity,
                                   email="ann@@example")
        assert bad.value.code == AccountError.EMAIL_INVALID
        user = await factories.user(session, "off@example.com")
        await accounts.set_active(session=session, user_id=user.id, active=False, actor=ADMIN)
        issued = await link_codes.issue(session=session, secret_key=SECRET, identity=identity,
                                        email="off@example.com")
        with pytest.raises(Forbidden):
            await _confirm(session, identity, issued.code)


async def test_linking_to_another_account_moves_the_chat(shop):
    async with shop.transaction() as session:
        identity = await _identity(session)
        for address in ("ann@example.com", "ann.work@example.com"):
            issued = await link_codes.issue(session=session, secret_key=SECRET,
                                            identity=identity, email=address)
            result = await _confirm(session, identity, issued.code)
        assert result.outcome is Outcome.LINKED
        assert identity.user_id == result.user.id and result.user.email == "ann.work@example.com"


async def test_wrong_codes_for_one_address_are_capped_per_day_across_chats(shop):
    async with shop.transaction() as session:
        for chat in ("1", "2"):
            identity = await _identity(session, chat)
            issued = await link_codes.issue(session=session, secret_key=SECRET,
                                            identity=identity, email="ann@example.com")
            wrong = "000000" if issued.code != "000000" else "111111"
            for _ in range(MAX_ATTEMPTS):
                await _confirm(session, identity, wrong)
        third = await _identity(session, "3")
        with pytest.raises(InvalidInput, match="Too many wrong codes"):
            await link_codes.issue(session=session, secret_key=SECRET, identity=third,
                                   email="ann@example.com")
        await link_codes.issue(session=session, secret_key=SECRET, identity=third,
                               email="bob@example.com")  # other addresses are unaffected


async def test_a_staff_account_cannot_be_linked_to_a_chat(shop):
    from core.accounts.models import Role

    async with shop.transaction() as session:
        await factories.user(session, "boss@example.com", role=Role.ADMIN)
        identity = await _identity(session)
        issued = await link_codes.issue(session=session, secret_key=SECRET, identity=identity,
                                        email="boss@example.com")
        with pytest.raises(Forbidden) as refused:
            await _confirm(session, identity, issued.code)
        assert refused.value.code == AccountError.STAFF_NOT_LINKABLE
