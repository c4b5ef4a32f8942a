"""Typed notification changes: a clear direction with a channel or a category is made at
once; anything vaguer opens the settings instead of guessing."""

import pytest

from bot.dialogs.notification_words import Change, change_in, wants_sms, zone_in
from core.notifications.events import Channel
from core.notifications.kinds import Category

EVERYTHING = (Category.ORDERS, Category.MARKETING, Category.BACK_IN_STOCK,
              Category.CART_REMINDERS)
DEFAULT_ON = (Category.ORDERS, Category.BACK_IN_STOCK)


@pytest.mark.parametrize(("text", "change"), [
    ("turn off email notifications", Change(EVERYTHING, (Channel.EMAIL,), False)),
    ("stop emails", Change(EVERYTHING, (Channel.EMAIL,), False)),
    ("Stop e-mails, please!", Change(EVERYTHING, (Channel.EMAIL,), False)),
    ("turn email back on", Change(DEFAULT_ON, (Channel.EMAIL,), True)),
    ("no more marketing emails", Change((Category.MARKETING,), (Channel.EMAIL,), False)),
    ("sign me up for the newsletter", Change((Category.MARKETING,), (Channel.EMAIL,), True)),
    ("turn on cart reminders", Change((Category.CART_REMINDERS,), (), True)),
    ("don't send shipping updates in the chat", Change((Category.ORDERS,), (Channel.CHAT,),
                                                       False)),
])
def test_clear_changes_are_read(text, change):
    assert change_in(text) == change


@pytest.mark.parametrize("text", [
    "unsubscribe", "STOP", "notification settings", "turn off notifications",
    "turn email on and turn sms off", "how do I change my notification settings"])
def test_vague_or_mixed_sentences_open_the_settings(text):
    assert change_in(text) is None


def test_texts_are_asked_for_not_switched_on():
    assert wants_sms("Text me order updates") and wants_sms("i want sms notifications")
    assert not wants_sms("stop the texts") and not wants_sms("no sms please")


@pytest.mark.parametrize(("text", "zone"), [
    ("time zone Europe/Berlin", "Europe/Berlin"), ("my timezone is America/New_York",
                                                   "America/New_York"),
    ("Asia/Tokyo", "Asia/Tokyo"), ("time zone: UTC", "UTC"),
    ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("cancel my order", None), ("time zone", None), ("x" * 200 + "/y", None)])
def test_a_typed_time_zone_is_read(text, zone):
    assert zone_in(text) == zone
