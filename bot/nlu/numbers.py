"""Quantities as shoppers type them: "3", "two", "twenty one", "a couple", "half a dozen".

Each number comes with its character span, so the entity points at the words typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
         "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
         "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
         "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
PHRASES = {"half a dozen": 6, "half dozen": 6, "a dozen": 12, "one dozen": 12,
           "a couple": 2, "couple": 2, "a pair": 2, "pair": 2}
# "the blue one", "which one": "one" as a pronoun, not a count.
_PRONOUN_BEFORE = {"a", "the", "that", "this", "which", "each", "every", "any", "no", "another",
                   "other", "some", "last", "first", "new", "old", "big", "bigger", "small",
                   "smaller", "large", "little", "same", "right", "wrong", "good", "nice",
                   "great", "lovely", "cheap", "cheaper", "cheapest", "blue", "red", "green",
                   "black", "white"}

_DIGITS = r"(?<![\w.,])\d{1,6}(?![\w]|[.,]\d)"
_WORD = (rf"(?:(?:{'|'.join(TENS)})(?:[\s-](?:{'|'.join(k for k in UNITS if UNITS[k] < 10)}))?"
         rf"|{'|'.join(sorted(UNITS, key=len, reverse=True))})")
_PHRASE = "|".join(re.escape(p) for p in sorted(PHRASES, key=len, reverse=True))
_NUMBER = re.compile(
    rf"\b(?:(?P<phrase>{_PHRASE})|(?P<count>{_DIGITS}|{_WORD})(?:\s+(?P<dozen>dozen)\b)?)"
    rf"(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NumberSpan:
    value: int
    start: int
    end: int


def word_value(words: str) -> int | None:
    """ "twenty one" / "twenty-one" / "7" -> 21 / 21 / 7; None if it is not a count."""
    words = words.strip().lower()
    if words.isdigit():
        return int(words)
    if words in PHRASES:
        return PHRASES[words]
    parts = re.split(r"[\s-]+", words)
    if len(parts) == 1:
        return UNITS.get(parts[0], TENS.get(parts[0]))
    if len(parts) == 2 and parts[0] in TENS and UNITS.get(parts[1], 10) < 10:
        return TENS[parts[0]] + UNITS[parts[1]]
    return None


def find_numbers(text: str) -> list[NumberSpan]:
    """Every count in the text, left to right, with its span."""
    found: list[NumberSpan] = []
    for match in _NUMBER.finditer(text):
        if match["phrase"]:
            phrase = match["phrase"].lower()
            if phrase in ("couple", "pair") and not _followed_by_of(text, match.end()):
                continue  # "a couple" is a count; a bare "pair" is usually a product
            found.append(NumberSpan(PHRASES[phrase], match.start(), match.end()))
            continue
        count = match["count"]
        before = _previous_word(text, match.start())
        if count.lower() == "one" and (before in _PRONOUN_BEFORE or before.isdigit()):
            continue  # "the blue one", "the 20 euro one"
        value = word_value(count)
        if value is None:
            continue
        if match["dozen"]:
            value *= 12
        found.append(NumberSpan(value, match.start(), match.end()))
    return found


def _previous_word(text: str, start: int) -> str:
    words = re.findall(r"[\w']+", text[:start].lower())
    return words[-1] if words else ""


def _followed_by_of(text: str, end: int) -> bool:
    return re.match(r"\s+of\b", text[end:]) is not None
