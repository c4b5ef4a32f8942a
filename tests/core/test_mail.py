"""Mail goes through SMTP when SMTP_URL is set (then the log never holds its body)."""

from __future__ import annotations

import logging
import socket

import pytest
from aiosmtpd.controller import Controller

from core.config import ConfigError, load_settings
from core.notifications.mail import Email, LogMailer, SmtpMailer, mailer_for


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.mail_from, envelope.rcpt_tos,
                              envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


async def test_smtp_delivers_and_logs_no_body(smtp_server, caplog):
    inbox, port = smtp_server
    caplog.set_level(logging.INFO, logger="chatcart.mail")
    mailer = mailer_for(f"smtp://127.0.0.1:{port}?from=shop@example.com", "shop.example")
    assert isinstance(mailer, SmtpMailer)
    await mailer.send(Email("ann@example.com", "Your code", "Your code is 123456."))
    ((sender, recipients, content),) = inbox.messages
    assert sender == "shop@example.com" and recipients == ["ann@example.com"]
    assert "Your code is 123456." in content and "Subject: Your code" in content
    assert "123456" not in caplog.text and "mail.sent to=a•••@example.com" in caplog.text
    assert "ann@example.com" not in caplog.text  # no address in the log


async def test_without_smtp_the_message_is_logged():
    assert isinstance(mailer_for(None, "shop.example"), LogMailer)


def test_a_bad_smtp_url_is_refused_at_start():
    with pytest.raises(ConfigError, match="SMTP_URL: expected smtp://"):
        load_settings(SMTP_URL="mail.example.com")


async def test_a_password_is_never_sent_without_tls(smtp_server):
    _, port = smtp_server  # this test server offers no STARTTLS
    mailer = mailer_for(f"smtp://shop:secret@127.0.0.1:{port}", "shop.example")
    with pytest.raises(Exception, match="(?i)starttls|tls"):
        await mailer.send(Email("ann@example.com", "Your code", "Your code is 123456."))
