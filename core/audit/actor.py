"""Who is acting: passed into every service that changes state."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    WEB = "web"
    TELEGRAM = "telegram"
    SLACK = "slack"
    TERMINAL = "terminal"
    ADMIN = "admin"
    CLI = "cli"
    GATEWAY = "gateway"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    channel: Channel
    user_id: int | None = None
    identity_id: int | None = None
    label: str = ""

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(Channel.SYSTEM, label=label)

    @classmethod
    def cli(cls, label: str = "cli") -> Actor:
        return cls(Channel.CLI, label=label)
