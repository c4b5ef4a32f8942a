"""A real SMTP server on loopback (aiosmtpd) that keeps each session's mail, parsed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None and body.get_content_subtype() == subtype, subtype
        return str(body.get_content())


@dataclass
class SmtpInbox:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # addresses answered 550

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?from=shop@example.com"

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    async def wait_for(self, count: int, seconds: float = 10) -> list[Received]:
        for _ in range(int(seconds * 20)):
            if len(self.received) >= count:
                break
            await asyncio.sleep(0.05)
        return self.received


@contextmanager
def smtp_server() -> Iterator[SmtpInbox]:
    inbox = SmtpInbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        inbox.port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
