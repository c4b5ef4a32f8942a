"""Human-readable order numbers: short, unambiguous when read aloud or typed in a chat."""

from __future__ import annotations

import re
import secrets

# Crockford-style alphabet: no 0/O, 1/I/L or U, so "CC-7KX3MQ" survives a phone call.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 6
PREFIX = "CC"
_PATTERN = re.compile(rf"^#?\s*(?:{PREFIX}\s*[-\s]?)?([{ALPHABET}]{{{LENGTH}}})$")


def new_number() -> str:
    return f"{PREFIX}-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def parse_number(text: str) -> str | None:
    """ "cc-7kx3mq", "#CC 7KX3MQ", "7kx3mq" -> "CC-7KX3MQ"; None if it cannot be one."""
    match = _PATTERN.match(text.strip().upper())
    return f"{PREFIX}-{match.group(1)}" if match else None
