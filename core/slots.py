"""Caps on long-lived requests open at once (web chat polls, console streams): each holds a
socket and a task for up to minutes, so one client opening thousands could use up the
process's file descriptors and database looks. Counted per process, which is what they
would exhaust; several processes each hold their own share.
"""

from __future__ import annotations

from enum import StrEnum


class Full(StrEnum):
    HOLDER = "holder"  # this holder (a client address, a member of staff) has its share
    ALL = "all"        # the process has as many open as it allows


class Slots:
    """`per_holder` open at once for one holder and `total` in all; 0 means no cap."""

    def __init__(self, per_holder: int, total: int) -> None:
        self.per_holder, self.total = per_holder, total
        self._held: dict[str, int] = {}
        self.open = 0

    def take(self, holder: str) -> Full | None:
        """Take a slot for `holder` (give it back when done), or say why there is none."""
        if self.total and self.open >= self.total:
            return Full.ALL
        held = self._held.get(holder, 0)
        if self.per_holder and held >= self.per_holder:
            return Full.HOLDER
        self._held[holder] = held + 1
        self.open += 1
        return None

    def give_back(self, holder: str) -> None:
        held = self._held.get(holder, 0)
        if held <= 1:
            self._held.pop(holder, None)
        else:
            self._held[holder] = held - 1
        self.open -= 1 if held else 0
