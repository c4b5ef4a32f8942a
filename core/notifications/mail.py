"""Outgoing email. Until SMTP delivery lands, mail is written to the log (`chatcart.mail`).

That is how a shop owner without SMTP sees a link code, and how tests read it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("chatcart.mail")


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    async def send(self, email: Email) -> None: ...


class LogMailer:
    """Writes each message to the log instead of sending it."""

    async def send(self, email: Email) -> None:
        log.info("mail.logged to=%s subject=%r body=%r", email.to, email.subject, email.body)
