"""The rules of the codes that prove a number before SMS consent (core.notifications.
sms_codes): bound to the holder and the number, bounded per number across chats, a withdrawal
on STOP only for the holders who agreed to that number, and the purge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core.audit.actor import Actor
from core.clock import now
from core.errors import InvalidInput
from core.notifications import preferences, sms_codes
from core.notifications.models import SmsCode

SYSTEM = Actor.system("test")
PHONE = "+33612345678"


async def _issue(session, shop, holder: str, phone: str = PHONE) -> sms_codes.IssuedCode:
    return await sms_codes.issue(session=session, secret_key=shop.settings.secret_key,
                                 vault=shop.vault, holder=holder, phone_e164=phone,
                                 actor=SYSTEM)


async def _confirm(session, shop, holder: str, code: str) -> sms_codes.Check:
    return await sms_codes.confirm(session=session, secret_key=shop.settings.secret_key,
                                   vault=shop.vault, holder=holder, code=code, actor=SYSTEM)


async def test_a_code_proves_the_number_for_its_own_holder_only(shop):
    async with shop.transaction() as session:
        issued = await _issue(session, shop, "chat:a")
        assert (await _confirm(session, shop, "chat:b", issued.code)).outcome \
            is sms_codes.Outcome.SPENT   # chat:b asked for no code
        assert not (await preferences.choices_of(session=session, holder="chat:b")).sms_agreed
        check = await _confirm(session, shop, "chat:a", f" {issued.code[:3]} {issued.code[3:]}")
        assert (check.outcome, check.phone) == (sms_codes.Outcome.AGREED, PHONE)
        row = await preferences.row_of(session=session, holder="chat:a")
        assert preferences.sms_number(row, shop.vault) == PHONE
        assert (await _confirm(session, shop, "chat:a", issued.code)).outcome \
            is sms_codes.Outcome.SPENT   # used once


async def test_codes_to_one_number_are_bounded_whichever_chat_asks(shop):
    async with shop.transaction() as session:
        for place in range(sms_codes.CODES_PER_HOUR):
            await _issue(session, shop, f"chat:{place}")
        with pytest.raises(InvalidInput):
            await _issue(session, shop, "chat:other")
        await _issue(session, shop, "chat:other", "+33698765432")   # another number goes


async def test_stop_withdraws_only_the_holders_of_that_number(shop):
    async with shop.transaction() as session:
        for holder, phone in (("chat:a", PHONE), ("email:b", "+33698765432")):
            await preferences.agree_to_sms(session=session, holder=holder, phone_e164=phone,
                                           vault=shop.vault, actor=SYSTEM, at=now())
        withdrawn = await preferences.withdraw_number(
            session=session, holder=["chat:a", "email:b"], phone_e164=PHONE,
            vault=shop.vault, actor=SYSTEM, at=now())
        assert withdrawn == 1
        assert not (await preferences.choices_of(session=session, holder="chat:a")).sms_agreed
        assert (await preferences.choices_of(session=session, holder="email:b")).sms_agreed


async def test_the_purge_keeps_a_day_of_codes_for_the_counts(shop):
    async with shop.transaction() as session:
        await _issue(session, shop, "chat:old")
        await _issue(session, shop, "chat:new")
        await session.execute(update(SmsCode).where(SmsCode.holder == "chat:old").values(
            expires_at=now() - timedelta(days=2)))
        assert await sms_codes.purge_old(session=session) == 1
        assert await session.scalar(select(func.count()).select_from(SmsCode)) == 1
