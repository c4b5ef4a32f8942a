"""Which product a shopper means: a named one, "the second one", or "it"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.turn import Turn

ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
            "4th": 4, "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7,
            "eighth": 8, "8th": 8, "ninth": 9, "9th": 9, "tenth": 10, "10th": 10, "last": -1}
_ORDINAL = re.compile(r"\b(" + "|".join(ORDINALS) + r")\b(?:\s+(?:one|item|product))?", re.I)
_NUMBERED = re.compile(r"(?:\bnumber\s*|#)(\d{1,2})\b", re.I)
_PRONOUN = re.compile(r"\b(it|that|this|those|them|these|that one|this one)\b", re.I)
CLEAR_LEAD = 5.0  # a fuzzy score this far ahead of the next makes the choice clear


@dataclass(frozen=True, slots=True)
class Reference:
    product_ids: list[int]   # one: resolved; several: ask which; none: not said
    ordinal_span: tuple[int, int] | None = None

    @property
    def resolved(self) -> int | None:
        return self.product_ids[0] if len(self.product_ids) == 1 else None


def _from_list(turn: Turn, text: str) -> tuple[int | None, tuple[int, int] | None]:
    shown = turn.state.shown
    for pattern, value_of in ((_ORDINAL, lambda m: ORDINALS[m.group(1).lower()]),
                              (_NUMBERED, lambda m: int(m.group(1)))):
        if match := pattern.search(text):
            position = value_of(match)
            index = position - 1 if position > 0 else len(shown) - 1
            if 0 <= index < len(shown):
                return shown[index], match.span()
            return None, match.span()
    return None, None


def resolve(turn: Turn) -> Reference:
    text = turn.msg.text
    understood = turn.understood
    named = [e for e in (understood.values("product") if understood else []) if "id" in e]
    if named:
        named.sort(key=lambda e: -float(e.get("score", e.get("confidence_entity", 0)) or 0))
        top = float(named[0].get("score", 0) or 0)
        close = [e for e in named if top - float(e.get("score", 0) or 0) < CLEAR_LEAD]
        ids = list(dict.fromkeys(int(e["id"]) for e in close))
        return Reference(ids[:5])
    listed, span = _from_list(turn, text)
    if listed is not None:
        return Reference([listed], span)
    if span is not None:
        return Reference([], span)
    if _PRONOUN.search(text) and turn.state.focus is not None:
        return Reference([turn.state.focus])
    return Reference([])
