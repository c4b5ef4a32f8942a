"""`chatcart notify test --to EMAIL`: one mail sent straight away (not through the outbox,
so that the person setting up sees at once what went wrong), and the failure in words."""

from __future__ import annotations

from email.utils import make_msgid

import aiosmtplib

from core.accounts.service import normalize_email
from core.config import Settings
from core.errors import InvalidInput
from core.notifications.mail import Email, SmtpMailer
from core.notifications.render import render


class NotifyTestError(Exception):
    """What went wrong, said plainly, for the command to print."""


def explain(error: BaseException, mailer: SmtpMailer, to: str) -> str:
    where = f"{mailer.hostname}:{mailer.port}"
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return (f"The mail server at {where} refused the user name or password in SMTP_URL "
                f"({error.code} {error.message}).")
    if isinstance(error, aiosmtplib.SMTPSenderRefused):
        return (f"The mail server at {where} refused the sender {mailer.sender} "
                f"({error.code} {error.message}); set another with ?from= in SMTP_URL.")
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        reasons = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
        return f"The mail server at {where} refused the address {to} ({reasons})."
    if isinstance(error, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return f"The mail server at {where} did not answer in time."
    if isinstance(error, aiosmtplib.SMTPConnectError | ConnectionError | OSError):
        return (f"Could not reach a mail server at {where}: {error}. Check the host and "
                "port in SMTP_URL.")
    if isinstance(error, aiosmtplib.SMTPNotSupported) or "tls" in str(error).lower():
        return (f"The mail server at {where} does not offer TLS ({error}). A password is "
                "never sent in clear: use smtps:// or a server that offers STARTTLS.")
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"The mail server at {where} said {error.code} {error.message}."
    return f"Sending to {where} failed: {type(error).__name__}: {error}"


async def send_test(settings: Settings, to: str) -> str:
    """Send the test mail; returns what to print, or raises NotifyTestError."""
    if "@" not in to:
        raise NotifyTestError("Only email can be tested in this version: SMS is not set up "
                              "yet. Give an email address to --to.")
    try:
        address = normalize_email(to)
    except InvalidInput as exc:
        raise NotifyTestError(exc.message) from None
    if not settings.smtp_url:
        raise NotifyTestError("SMTP_URL is not set, so mail is only written to the log. Set "
                              "it, e.g. SMTP_URL=smtp://user:password@mail.example.com:587"
                              "?from=shop@example.com")
    host = settings.public_base_url.host or "localhost"
    mailer = SmtpMailer(settings.smtp_url, f"no-reply@{host}")
    words = render("notify_test", {"shop": host})
    assert words.subject and words.text
    email = Email(address, words.subject, words.text, words.html,
                  make_msgid(idstring="notify-test", domain=host))
    try:
        await mailer.send(email)
    except Exception as error:  # noqa: BLE001 - every failure is explained, none raised
        raise NotifyTestError(explain(error, mailer, address)) from None
    return (f"Sent a test mail to {address} through {mailer.hostname}:{mailer.port} from "
            f"{mailer.sender}. If it does not arrive, look in the spam folder, then at the "
            "server's own log.")
