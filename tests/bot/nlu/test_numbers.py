"""Quantities as shoppers type them, with the span of the words typed."""

import pytest

from bot.nlu.numbers import find_numbers, word_value


def spans(text: str) -> list[tuple[int, str]]:
    return [(n.value, text[n.start:n.end]) for n in find_numbers(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("two mugs", [(2, "two")]),
    ("add 3", [(3, "3")]),
    ("add 3.", [(3, "3")]),
    ("a couple of lamps", [(2, "a couple")]),
    ("a pair of socks", [(2, "a pair")]),
    ("half a dozen candles", [(6, "half a dozen")]),
    ("a dozen eggs", [(12, "a dozen")]),
    ("two dozen eggs", [(24, "two dozen")]),
    ("twenty one candles", [(21, "twenty one")]),
    ("twenty-one", [(21, "twenty-one")]),
    ("ninety nine", [(99, "ninety nine")]),
    ("Add TWO", [(2, "TWO")]),
    ("seventeen and seven", [(17, "seventeen"), (7, "seven")]),
    ("one more flask", [(1, "one")]),
])
def test_counts_in_digits_and_words(text, expected):
    assert spans(text) == expected


@pytest.mark.parametrize("text", [
    "the blue one", "which one", "have a good one", "someone", "phone", "12.50", "CC-7KX3MQ",
    "3rd", "pair", "often",
])
def test_things_that_are_not_counts(text):
    assert spans(text) == []


def test_word_value_reads_single_phrases():
    assert word_value("twenty one") == 21
    assert word_value("half a dozen") == 6
    assert word_value("7") == 7
    assert word_value("lots") is None
    assert word_value("twenty twenty") is None
