"""Outgoing email: through the SMTP server in `SMTP_URL`, or, without one, into the log.

The log (`chatcart.mail`) is how a shop without mail set up still sees a link code,
and how tests read it. With SMTP the log says only that a message went, never its body.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from core.clock import now

log = logging.getLogger("chatcart.mail")
TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    body: str                      # the plain text
    html: str | None = None        # sent as its alternative (multipart/alternative)
    message_id: str | None = None  # kept across retries, so a receiver can tell a resend
    log_body: bool = True          # False: the body quotes personal data (a receipt's address)
    # More header fields, such as List-Unsubscribe (RFC 2369) and List-Unsubscribe-Post
    # (RFC 8058) on mail that is not transactional.
    headers: tuple[tuple[str, str], ...] = ()


class Mailer(Protocol):
    async def send(self, email: Email) -> None: ...


def compose(email: Email, sender: str) -> EmailMessage:
    """The message as it goes out: plain text, with the HTML as its alternative."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, email.to, email.subject
    message["Date"] = format_datetime(now())
    domain = sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = email.message_id or make_msgid(domain=domain)
    for name, value in email.headers:
        message[name] = value
    message.set_content(email.body)
    if email.html:
        message.add_alternative(email.html, subtype="html")
    return message


def masked_address(address: str) -> str:
    """`a•••@example.com`: enough for its owner or an operator to recognise, not a copy."""
    name, _, domain = address.partition("@")
    return f"{name[:1]}•••@{domain}" if domain else "•••"


class LogMailer:
    """Writes each message to the log instead of sending it (no SMTP_URL set)."""

    async def send(self, email: Email) -> None:
        body = email.body if email.log_body else "(not logged: it quotes personal data)"
        log.info("mail.logged to=%s subject=%r body=%r", email.to, email.subject, body)


class SmtpMailer:
    """`smtp://user:password@host:587` (STARTTLS: required with a password, else used when
    offered) or `smtps://` (TLS from the start); `?from=shop@example.com` sets the sender."""

    def __init__(self, url: str, default_sender: str) -> None:
        parts = urlsplit(url)
        self.hostname = parts.hostname or "localhost"
        self.tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = parse_qs(parts.query).get("from", [default_sender])[0]

    async def send(self, email: Email) -> None:
        message = compose(email, self.sender)
        # A password never crosses in clear: with credentials, STARTTLS is required.
        start_tls = None if self.tls or not self.username else True
        await aiosmtplib.send(message, hostname=self.hostname, port=self.port,
                              username=self.username, password=self.password,
                              use_tls=self.tls, start_tls=start_tls, timeout=TIMEOUT)
        log.info("mail.sent to=%s", masked_address(email.to))  # no address, no order number


def mailer_for(smtp_url: str | None, public_host: str) -> Mailer:
    """The mailer for `SMTP_URL`; without one, a warning at start: link codes and
    sign-in mail then sit in the log, readable by whoever reads the log."""
    if not smtp_url:
        log.warning("mail.log_only note=\"SMTP_URL is not set: mail (link codes included) "
                    "is written to this log, not sent\"")
        return LogMailer()
    return SmtpMailer(smtp_url, f"no-reply@{public_host}")
