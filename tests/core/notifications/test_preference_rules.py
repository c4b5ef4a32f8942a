"""The preference rules as properties: whatever a shopper picked, marketing and cart
reminders never go without their yes on that channel, account and security always go
(SMS aside), SMS never goes without consent, and quiet hours hold back only what is not
urgent, to a moment outside the quiet window within a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.notifications.events import Channel
from core.notifications.kinds import ALWAYS_ON, OPT_IN, Category
from core.notifications.preferences import Choices, allowed, choice_key, not_before

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
         "Pacific/Chatham", "America/St_Johns", "Europe/London"]
KEYS = [choice_key(category, channel) for category in Category for channel in Channel]

choices = st.builds(
    Choices, picked=st.dictionaries(st.sampled_from(KEYS), st.booleans()),
    sms_agreed=st.booleans(), time_zone=st.sampled_from([*ZONES, None, "Not/AZone"]),
    quiet_from=st.none() | st.integers(0, 1439), quiet_until=st.none() | st.integers(0, 1439))
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                       timezones=st.just(UTC))


@given(choices, st.sampled_from(sorted(OPT_IN)), st.sampled_from(list(Channel)))
def test_opt_in_categories_never_go_without_a_yes_on_that_channel(picked, category, channel):
    if allowed(category, channel, picked):
        assert picked.picked.get(choice_key(category, channel)) is True


@given(choices, st.sampled_from(sorted(ALWAYS_ON)), st.sampled_from(list(Channel)))
def test_account_and_security_always_go_except_sms_without_consent(picked, category, channel):
    expected = picked.sms_agreed if channel is Channel.SMS else True
    assert allowed(category, channel, picked) is expected


@given(choices, st.sampled_from(list(Category)))
def test_sms_never_goes_without_consent(picked, category):
    if not picked.sms_agreed:
        assert not allowed(category, Channel.SMS, picked)


def _quiet(moment: datetime, picked: Choices) -> bool:
    """Whether `moment` falls in the quiet window, computed apart from the code under test."""
    start, end = picked.quiet_from, picked.quiet_until
    if start is None or end is None or start == end:
        return False
    zone = picked.time_zone if picked.time_zone in ZONES else "UTC"
    local = moment.astimezone(ZoneInfo(zone))
    minute = local.hour * 60 + local.minute
    return start <= minute < end if start < end else minute >= start or minute < end


@settings(max_examples=400)
@given(choices, moments)
def test_urgent_news_is_never_held(picked, moment):
    assert not_before(moment, picked, urgent=True) is None


@settings(max_examples=1000)
@given(choices, moments)
def test_what_can_wait_waits_to_the_end_of_quiet_hours_within_a_day(picked, moment):
    wait = not_before(moment, picked, urgent=False)
    if wait is None:
        assert not _quiet(moment, picked)
        return
    assert _quiet(moment, picked)
    assert moment < wait <= moment + timedelta(hours=24)
    assert not _quiet(wait, picked)
