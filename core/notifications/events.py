"""What the notification service is told: an event, and who should hear of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    CHAT = "chat"    # the chat the shopper used (telegram:..., slack:..., web:...)
    EMAIL = "email"
    SMS = "sms"      # an E.164 number the shopper agreed to get SMS at
    PUSH = "push"    # a web push subscription of a web chat session (its id)


@dataclass(frozen=True, slots=True)
class Recipient:
    channel: Channel
    address: str               # a chat key, an email address, an E.164 number, a push id
    locale: str | None = None  # BCP 47; None reads in English


@dataclass(frozen=True, slots=True)
class Event:
    """`kind` names the templates (`order_shipped`); `subject` is what it is about
    (`order:12`); `occurrence` tells apart events of one kind on one subject that really
    are different (a second partial refund), and is empty when there is only ever one.
    Replaying the same (kind, subject, occurrence) reaches nobody twice."""

    kind: str
    subject: str
    context: dict[str, Any] = field(default_factory=dict)
    occurrence: str = ""
    buttons: list[list[dict[str, str]]] = field(default_factory=list)  # chat only

    @property
    def identity(self) -> str:
        return f"{self.kind}|{self.subject}|{self.occurrence}"
