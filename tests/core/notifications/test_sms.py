"""SMS text is counted the way carriers count it and cut to fit two segments."""

from hypothesis import given
from hypothesis import strategies as st

from core.notifications import sms


def test_plain_text_counts_septets_and_extension_characters_count_twice():
    assert sms.is_gsm7("Order CC-1 is on its way: €5 back {soon}")
    assert sms.units("a€{") == 5
    assert sms.segments("a" * 160) == 1 and sms.segments("a" * 161) == 2
    assert sms.segments("€" * 80) == 1 and sms.segments("€" * 81) == 2


def test_a_character_outside_gsm7_makes_the_whole_message_ucs2():
    assert not sms.is_gsm7("Bestellung für Zoë 😀") and sms.is_gsm7("für Renée")
    assert sms.segments("ł" * 70) == 1 and sms.segments("ł" * 71) == 2
    assert sms.units("😀") == 2


def test_a_long_message_is_cut_at_a_word_to_two_segments():
    text = "Your order is on its way. " * 20
    cut = sms.fit(text)
    assert sms.segments(cut) <= 2 and cut.endswith("...")
    assert text.startswith(cut[:-3]) and not cut[:-3].endswith(" ")
    assert sms.fit("Short and sweet.") == "Short and sweet."


@given(st.text(max_size=600))
def test_whatever_the_text_the_result_fits_two_segments(text):
    assert sms.segments(sms.fit(text)) <= 2
