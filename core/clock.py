"""The one source of "now", aware and in UTC."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
