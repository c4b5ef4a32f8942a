"""Text helpers every platform renderer shares."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at a paragraph, line or word where possible."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    pieces.append(rest)
    return [piece for piece in pieces if piece] or [""]


def split_escaped(text: str, limit: int, escape: Callable[[str], str]) -> list[str]:
    """Escaped pieces of at most `limit` characters (escaping lengthens text, so cut first)."""
    size = limit
    while True:
        pieces = [escape(piece) for piece in split_text(text, size)]
        if all(len(piece) <= limit for piece in pieces) or size < 64:
            return pieces
        size = size * 4 // 5


def is_public_url(url: str) -> bool:
    """Whether a platform's servers could open this URL (not localhost or a private address)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host
    return address.is_global
