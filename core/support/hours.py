"""Opening hours for people (`SUPPORT_HOURS`): `Mon-Fri 09:00-17:00 Europe/Berlin`.

One day range (or one day: `Sat`), one time range on those days, one IANA time zone;
unset means people answer at any time. Small on purpose: the bot only needs "is it open
now" and "when does it open next" to tell a shopper honestly when an answer comes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FORMAT = re.compile(r"^\s*([A-Za-z]{3})(?:\s*-\s*([A-Za-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*"
                     r"(\d{1,2}):(\d{2})\s+(\S+)\s*$")
EXAMPLE = "Mon-Fri 09:00-17:00 Europe/Berlin"


@dataclass(frozen=True, slots=True)
class Hours:
    days: frozenset[int]      # 0 = Monday
    opens: time
    closes: time
    zone: str

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.zone))
        return local.weekday() in self.days and self.opens <= local.time() < self.closes

    def next_open(self, moment: datetime) -> datetime:
        """`moment` when open, else when the next opening begins (aware, in the shop's zone)."""
        local = moment.astimezone(ZoneInfo(self.zone))
        if self.is_open(moment):
            return local
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            start = datetime.combine(day, self.opens, ZoneInfo(self.zone))
            if day.weekday() in self.days and start > local:
                return start
        raise AssertionError("a week always holds an opening")  # days is never empty


def parse(text: str) -> Hours:
    """The hours in `text`; ValueError with a message fit for a person otherwise."""
    match = _FORMAT.match(text)
    if not match:
        raise ValueError(f"expected days, hours and a time zone, like {EXAMPLE!r}")
    first, last, oh, om, ch, cm, zone = match.groups()
    try:
        start, end = DAYS.index(first.lower()), DAYS.index((last or first).lower())
    except ValueError:
        raise ValueError(f"days are written Mon Tue Wed Thu Fri Sat Sun, like {EXAMPLE!r}") \
            from None
    if not (int(oh) < 24 and int(om) < 60 and int(ch) <= 24 and int(cm) < 60):
        raise ValueError("hours are written 00:00 to 24:00")
    opens = time(int(oh), int(om))
    closes = time.max if (int(ch), int(cm)) == (24, 0) else time(int(ch), int(cm))
    if closes <= opens:
        raise ValueError("the closing time must come after the opening time (same day)")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r} (use a name like Europe/Berlin)") \
            from None
    days = frozenset(d % 7 for d in range(start, start + ((end - start) % 7) + 1))
    return Hours(days, opens, closes, zone)


def is_open(hours: Hours | None, moment: datetime | None = None) -> bool:
    return hours is None or hours.is_open(moment or datetime.now(UTC))
