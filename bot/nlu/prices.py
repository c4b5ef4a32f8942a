"""Price bounds in a sentence: "under 20", "between 10 and 25", "over €50", "20-30".

Like the training data, the entity span is the number alone and the value a decimal
string ("20", "12.50"). A bound is `strong` when nothing but a price can be meant (a
currency, decimals, "cheaper than"); a cart sentence like "from 2 to 3" is weak, and the
entity extractor lets a cart intent read weak bounds as quantities instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_NUM = r"\d{1,7}(?:[.,]\d{1,2})?"
_BEFORE = r"(?:(?P<{0}cur1>[€$£]|eur\b|usd\b|gbp\b)\s?)?"
_AFTER = (r"(?:\s?(?P<{0}cur2>€|\$|£|(?:euros?|eur|dollars?|usd|pounds?|gbp|quid|bucks)\b))?")
_STRONG_MAX = "under|below|beneath|cheaper than|max|maximum|budget(?: of| is)?"
_WEAK_MAX = "less than|up to|at most|no more than|not more than|lower than|within"
_STRONG_MIN = "above|pricier than|more expensive than|starting at|starting from|upwards of"
_WEAK_MIN = "over|more than|greater than|at least|min|minimum|from"


def _amount(name: str) -> str:
    return (rf"{_BEFORE.format(name)}(?<![\w.,])(?P<{name}>{_NUM})(?![\w]|[.,]\d)"
            rf"{_AFTER.format(name)}")


_RANGE = re.compile(
    rf"(?:\b(?P<cue>between|from)\s+)?{_amount('a')}\s*(?P<sep>-|–|\bto\b|\band\b)\s*"
    rf"{_amount('b')}",
    re.IGNORECASE)
_BOUND = re.compile(
    rf"(?:\b(?P<max>{_STRONG_MAX}|{_WEAK_MAX})\b|(?P<min>\b(?:{_STRONG_MIN}|{_WEAK_MIN})\b|[<>]))"
    rf"\s*(?:of\s+)?{_amount('a')}", re.IGNORECASE)
_SUFFIX = re.compile(
    rf"{_amount('a')}\s*(?:(?P<max>or (?:less|under|below)|max\b|tops\b)"
    rf"|(?P<min>or (?:more|above|over)|\+|and (?:up|above)\b))", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PriceBound:
    entity: str  # price_min or price_max
    value: str
    start: int
    end: int
    strong: bool


def find_price_bounds(text: str, blocked: Iterable[tuple[int, int]] = ()) -> list[PriceBound]:
    """Bounds left to right; numbers inside `blocked` spans (order ids, emails) are skipped."""
    taken = list(blocked)
    found: list[PriceBound] = []
    for match in _RANGE.finditer(text):
        cue = (match["cue"] or "").lower()
        if not _free(match.span(), taken) or (match["sep"].lower() == "and" and cue != "between"):
            continue  # "2 and 3" without "between" is a list, not a range
        strong = cue == "between" or _currency(match) or _decimal(match)
        low, high = sorted((match.span("a"), match.span("b")),
                           key=lambda s: float(text[s[0]:s[1]].replace(",", ".")))
        found += [_bound("price_min", text, low, strong),
                  _bound("price_max", text, high, strong)]
        taken.append(match.span())
    for pattern in (_BOUND, _SUFFIX):
        for match in pattern.finditer(text):
            if not _free(match.span(), taken):
                continue
            entity = "price_max" if match["max"] else "price_min"
            cue = (match["max"] or match["min"] or "").lower()
            strong = bool(re.fullmatch(rf"{_STRONG_MAX}|{_STRONG_MIN}|or \w+|\+|max|tops", cue)) \
                or _currency(match) or _decimal(match)
            found.append(_bound(entity, text, match.span("a"), strong))
            taken.append(match.span())
    return sorted(found, key=lambda b: b.start)


def _bound(entity: str, text: str, span: tuple[int, int], strong: bool) -> PriceBound:
    return PriceBound(entity, text[span[0]:span[1]].replace(",", "."), span[0], span[1],
                      bool(strong))


def _currency(match: re.Match[str]) -> bool:
    return any(match.groupdict().get(f"{n}{k}") for n in "ab" for k in ("cur1", "cur2"))


def _decimal(match: re.Match[str]) -> bool:
    return any(match.groupdict().get(n) and not match[n].isdigit() for n in "ab")


def _free(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return all(span[1] <= s or span[0] >= e for s, e in taken)
