"""JSON from outside, read within bounds: a size, a nesting depth and text that can be
written back out.

`json.loads` recurses once per level: 5,000 nested `[` (10 KB) raised RecursionError,
which no `except ValueError` catches (a 500 on every route that parsed a body). It also
accepts `"\\ud800"`, a lone surrogate that fails later when the answer is encoded, and
`NaN`. Here the depth is counted on the raw text before anything is parsed (strings
taken out first, so brackets inside them do not count), and every string of the result
is checked once. Every refusal is an `UnreadableJson`, a ValueError.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32          # a Telegram update or a Stripe event nests about 8 deep
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_PAIRS = re.compile(rb"\[\]|\{\}")


class UnreadableJson(ValueError):
    """A body that is not JSON this code will read; `too_large` for the size bound."""

    def __init__(self, reason: str, too_large: bool = False) -> None:
        super().__init__(reason)
        self.too_large = too_large


def too_deep(raw: bytes, limit: int) -> bool:
    """Whether arrays and objects in `raw` nest deeper than `limit` (or do not balance).

    Only the brackets outside strings are kept; each pass takes out the innermost pairs,
    so a document `limit` deep is gone after `limit` passes (each one a C-speed scan)."""
    brackets = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if re.search(rb"[\[{]{%d}" % (limit + 1), brackets):
        return True  # the usual attack, found in one scan
    for _ in range(limit):
        if not brackets:
            return False
        inner = _PAIRS.sub(b"", brackets)
        if len(inner) == len(brackets):
            return True  # brackets that never close
        brackets = inner
    return bool(brackets)


def _refuse_constant(name: str) -> Any:
    raise UnreadableJson(f"{name} is not a JSON number")


def _check_strings(value: Any) -> None:
    """Every key and string encodes as UTF-8 (no lone surrogates); walked without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise UnreadableJson("a string holds a lone surrogate (\\ud800-\\udfff)") \
                    from None
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def loads(raw: bytes | str, *, max_bytes: int = 1_000_000, max_depth: int = MAX_DEPTH) -> Any:
    """The value in `raw`, or UnreadableJson saying what is wrong with it."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise UnreadableJson(f"larger than {max_bytes} bytes", too_large=True)
    if too_deep(data, max_depth):
        raise UnreadableJson(f"nested deeper than {max_depth} levels, or unbalanced")
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except UnreadableJson:
        raise
    except (ValueError, RecursionError) as problem:  # UnicodeDecodeError is a ValueError
        raise UnreadableJson(f"not JSON: {str(problem)[:80]}") from None
    _check_strings(value)
    return value
