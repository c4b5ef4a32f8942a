"""Several holders' choices read as one (`Choices.combined`, a guest order's chat and
email): never marketing (or any opt-in) without a yes, any off wins, account and security
always go, SMS only when one of them agreed; and the preference row's changes: locked,
its first insert race-safe, and unchanged quiet hours neither written nor audited."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.audit.actor import Actor
from core.audit.models import AuditEvent
from core.notifications import preferences
from core.notifications.events import Channel
from core.notifications.kinds import ALWAYS_ON, OPT_IN, Category
from core.notifications.models import NotificationPreference
from core.notifications.preferences import Choices, allowed, choice_key
from tests.core.notifications.test_preference_rules import choices

SYSTEM = Actor.system("test")
several = st.lists(choices, min_size=1, max_size=4)
categories = st.sampled_from(list(Category))
channels = st.sampled_from(list(Channel))


@given(several, st.sampled_from(sorted(OPT_IN)), channels)
def test_opt_in_needs_a_yes_from_one_and_no_off_from_any(holders, category, channel):
    key = choice_key(category, channel)
    if allowed(category, channel, Choices.combined(holders)):
        assert any(h.picked.get(key) is True for h in holders)
        assert not any(h.picked.get(key) is False for h in holders)


@given(several, categories, channels)
def test_any_off_wins(holders, category, channel):
    key = choice_key(category, channel)
    if category not in ALWAYS_ON and any(h.picked.get(key) is False for h in holders):
        assert not allowed(category, channel, Choices.combined(holders))


@given(several, st.sampled_from(sorted(ALWAYS_ON)), channels)
def test_account_and_security_always_go_where_sms_is_agreed(holders, category, channel):
    combined = Choices.combined(holders)
    assert allowed(category, channel, combined) == (channel is not Channel.SMS
                                                    or combined.sms_agreed)


@given(several, categories, channels)
def test_default_on_stays_on_unless_someone_said_off(holders, category, channel):
    key = choice_key(category, channel)
    if category in OPT_IN or category in ALWAYS_ON or channel is Channel.SMS:
        return
    off = any(h.picked.get(key) is False for h in holders)
    assert allowed(category, channel, Choices.combined(holders)) == (not off)


@given(several)
def test_sms_is_agreed_if_one_agreed_and_quiet_hours_are_the_first_that_has_them(holders):
    combined = Choices.combined(holders)
    assert combined.sms_agreed == any(h.sms_agreed for h in holders)
    quiet = [h for h in holders if h.quiet_from is not None and h.quiet_until is not None]
    if quiet:
        assert (combined.quiet_from, combined.quiet_until) == (quiet[0].quiet_from,
                                                               quiet[0].quiet_until)
    else:
        assert combined.quiet_from is None and combined.quiet_until is None


@given(choices)
def test_one_holder_combined_is_that_holder(one):
    combined = Choices.combined([one])
    for category in Category:
        for channel in Channel:
            assert allowed(category, channel, combined) == allowed(category, channel, one)


async def _audited(shop, action: str) -> int:
    async with shop.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEvent)
                                        .where(AuditEvent.action == action)))


async def test_unchanged_quiet_hours_write_and_audit_nothing(shop):
    for _ in range(2):
        async with shop.transaction() as session:
            await preferences.set_quiet_hours(session=session, holder="chat:q", quiet_from=None,
                                              quiet_until=None, time_zone=None, actor=SYSTEM)
    async with shop.sessions() as session:
        assert await preferences.row_of(session=session, holder="chat:q") is None
    for _ in range(3):
        async with shop.transaction() as session:
            await preferences.set_quiet_hours(session=session, holder="chat:q", quiet_from=1320,
                                              quiet_until=420, time_zone="Europe/Berlin",
                                              actor=SYSTEM)
    async with shop.transaction() as session:   # the page saves the same hours, no zone
        await preferences.set_quiet_hours(session=session, holder="chat:q", quiet_from=1320,
                                          quiet_until=420, time_zone=None, actor=SYSTEM)
    assert await _audited(shop, "notifications.quiet_hours") == 1


async def test_two_first_changes_of_one_holder_at_once_both_stay(shop):
    """Two chats' (or a page's and a chat's) first changes race: one inserts the row, the
    other re-reads it under the lock; neither answers an error nor loses its change."""
    async def change(category: Category) -> None:
        async with shop.transaction() as session:
            await preferences.set_choice(session=session, holder="email:race",
                                         category=category, channel=Channel.EMAIL, on=False,
                                         actor=SYSTEM)

    await asyncio.gather(change(Category.ORDERS), change(Category.BACK_IN_STOCK))
    await asyncio.gather(change(Category.MARKETING), change(Category.CART_REMINDERS))
    async with shop.sessions() as session:
        rows = (await session.scalars(select(NotificationPreference).where(
            NotificationPreference.holder == "email:race"))).all()
    assert len(rows) == 1   # and the second race, on the row, lost neither change
    assert rows[0].choices == {"orders:email": False, "back_in_stock:email": False,
                               "marketing:email": False, "cart_reminders:email": False}
