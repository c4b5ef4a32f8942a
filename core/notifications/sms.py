"""SMS text that fits: GSM-7 when every character is in its alphabet, else UCS-2.

One segment holds 160 GSM-7 septets (153 each when split) or 70 UCS-2 units (67 split);
the extension characters (`{ } [ ] ~ | \\ ^ €`) take two septets. `fit` cuts a text to at
most two segments, at a word where it can, with an ellipsis.
"""

from __future__ import annotations

BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
         "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
EXTENDED = "^{}\\[~]|€\f"
MAX_SEGMENTS = 2


def is_gsm7(text: str) -> bool:
    return all(ch in BASIC or ch in EXTENDED for ch in text)


def units(text: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes."""
    if is_gsm7(text):
        return sum(2 if ch in EXTENDED else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    size = units(text)
    single, multi = (160, 153) if is_gsm7(text) else (70, 67)
    return 1 if size <= single else -(-size // multi)


def fit(text: str, max_segments: int = MAX_SEGMENTS) -> str:
    """`text` as is when it fits, else cut at a word with "..." so that it does."""
    text = " ".join(text.split())
    if segments(text) <= max_segments:
        return text
    gsm = is_gsm7(text)
    budget = (153 if gsm else 67) * max_segments - (3 if gsm else 1)
    ellipsis = "..." if gsm else "…"
    cut, used = 0, 0
    for index, ch in enumerate(text):
        used += units(ch) if gsm else len(ch.encode("utf-16-le")) // 2
        if used > budget:
            break
        cut = index + 1
    head = text[:cut]
    if " " in head[len(head) // 2:]:
        head = head[:head.rfind(" ")]
    return head.rstrip(" ,.;:") + ellipsis
