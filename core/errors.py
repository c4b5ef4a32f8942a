"""Domain errors: a code for programs, a message fit to show a shopper.

Each domain lists its codes in its own `errors.py` (a StrEnum); the kind of the
exception tells the outside how to answer (the console maps it to an HTTP status).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class DomainError(Exception):
    """A rule said no. Nothing was changed."""

    def __init__(self, code: StrEnum, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!s}, {self.message!r})"


class InvalidInput(DomainError):
    """The request itself is wrong (a bad quantity, a malformed email)."""


class NotFound(DomainError):
    """The thing asked for does not exist, or is not visible to the asker."""


class Conflict(DomainError):
    """The request is fine but the shop's state does not allow it now (sold out)."""


class Forbidden(DomainError):
    """The actor may not do this."""
