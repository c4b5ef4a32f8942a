"""Price bounds: the number alone is the entity, its value a decimal string."""

import pytest

from bot.nlu.prices import find_price_bounds


def bounds(text: str) -> list[tuple[str, str, str]]:
    return [(b.entity, b.value, text[b.start:b.end]) for b in find_price_bounds(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("under 20", [("price_max", "20", "20")]),
    ("less than €30", [("price_max", "30", "30")]),
    ("below 15 euros", [("price_max", "15", "15")]),
    ("less than 12.50", [("price_max", "12.50", "12.50")]),
    ("cheaper than 9,99", [("price_max", "9.99", "9,99")]),
    ("candles for 20 or less", [("price_max", "20", "20")]),
    ("over €50", [("price_min", "50", "50")]),
    ("more than 40", [("price_min", "40", "40")]),
    ("at least $5", [("price_min", "5", "5")]),
    ("between 10 and 25", [("price_min", "10", "10"), ("price_max", "25", "25")]),
    ("from 10 to 20", [("price_min", "10", "10"), ("price_max", "20", "20")]),
    ("20-30", [("price_min", "20", "20"), ("price_max", "30", "30")]),
    ("£5 – £10", [("price_min", "5", "5"), ("price_max", "10", "10")]),
    ("between 30 and 10", [("price_max", "30", "30"), ("price_min", "10", "10")]),
])
def test_price_phrases(text, expected):
    assert bounds(text) == expected


def test_no_price_without_a_price_phrase():
    assert bounds("add 2 and 3") == []
    assert bounds("2 mugs") == []


def test_blocked_spans_are_left_alone():
    assert find_price_bounds("order CC-7KX3MQ under 20", blocked=[(6, 15)])[0].value == "20"
    assert find_price_bounds("ref 12-34", blocked=[(4, 9)]) == []


def test_currency_decimals_and_price_words_make_a_bound_strong():
    strong = {b.value: b.strong for b in find_price_bounds("under 20 and over €5")}
    assert strong == {"20": True, "5": True}
    assert not find_price_bounds("from 2 to 3")[0].strong
    assert not find_price_bounds("more than 3")[0].strong
