"""What the bot remembers about one chat between messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChatState:
    flow: str | None = None                 # the multi-step dialog under way, if any
    step: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    shown: list[int] = field(default_factory=list)   # product ids as last listed: "the 2nd one"
    focus: int | None = None                # the product last talked about: "make it 3"
    query: dict[str, Any] | None = None     # the last search, for its next page
    turn: int = 0
    misunderstood: int = 0                  # text not understood, in a row
    recent: str | None = None               # the last turns, sealed (core/support/context.py)
    reminder_offered: bool = False          # cart reminders were offered in this chat

    def to_dict(self) -> dict[str, Any]:
        """The fields as they are, for saving at once (`asdict` deep-copied every one, on
        every turn)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ChatState:
        """Tolerant of older shapes: unknown keys are dropped, missing ones default."""
        if not data:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def start(self, flow: str, step: str) -> None:
        self.flow, self.step, self.slots = flow, step, {}

    def finish(self) -> None:
        self.flow, self.step, self.slots = None, None, {}
