"""`chatcart notify test --to EMAIL|PHONE`: one mail or SMS sent straight away (not
through the outbox, so that the person setting up sees at once what went wrong), through
the same sender the notices use, and the failure in words."""

from __future__ import annotations

from email.utils import make_msgid

import aiosmtplib

from bot.notice_sms import SmsFailed, Trouble, TwilioSms
from core.accounts.service import normalize_email
from core.config import Settings
from core.errors import InvalidInput
from core.notifications.mail import Email, SmtpMailer
from core.notifications.phones import e164
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


# Twilio's codes an operator meets while setting up, and what to do about each.
SMS_HINTS = {
    21211: "Give the number in international form, such as +14155550100.",
    21408: "Turn on SMS to that country under Messaging > Settings > Geo permissions.",
    21606: "TWILIO_FROM is not a number of this account that can send SMS.",
    21608: "A trial account sends only to verified numbers: verify it in the Twilio "
           "console, or upgrade the account.",
    21610: "That number answered STOP: it gets no SMS from you until it answers START.",
    21659: "TWILIO_FROM is not a number of this account that can send SMS.",
}


def explain_sms(failed: SmsFailed, twilio: TwilioSms, to: str) -> str:
    said = f"{failed.status} {failed.message}" + (f" (error {failed.code})"
                                                  if failed.code else "")
    if failed.trouble is Trouble.CREDENTIALS:
        return (f"Twilio at {twilio.base} refused the credentials ({said}). Check "
                "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN against the Account Info in the "
                "Twilio console" + (", and TWILIO_API_BASE." if failed.status == 404 else "."))
    if failed.trouble is Trouble.REFUSED:
        hint = SMS_HINTS.get(failed.code or 0, "")
        return f"Twilio refused to send to {to}: {said}. {hint}".strip()
    if failed.trouble is Trouble.BUSY:
        return (f"Twilio at {twilio.base} said too many requests ({said}). Wait a minute "
                "and try again; order SMS are tried again on their own.")
    if failed.status:
        return f"Twilio at {twilio.base} failed on its side ({said}). Try again later."
    return (f"Could not reach Twilio at {twilio.base}: {failed.message}. Check the network"
            " (and TWILIO_API_BASE, if set).")


async def send_test_sms(settings: Settings, to: str) -> str:
    """Send the test SMS; returns what to print, or raises NotifyTestError."""
    number = e164(to) if to.strip().startswith("+") else None
    if number is None:
        raise NotifyTestError(f"{to[:40]!r} is neither an email address nor a phone number "
                              "in international form, such as +14155550100.")
    if not settings.sms_enabled:
        raise NotifyTestError("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM are not "
                              "set, so no SMS can be sent. Set them from the Twilio console "
                              "(TWILIO_FROM: your Twilio number, such as +14155550100, or a "
                              "Messaging Service SID, MG...).")
    host = settings.public_base_url.host or "localhost"
    words = render("notify_test", {"shop": host})
    assert words.sms
    twilio = TwilioSms(settings)
    try:
        sid = await twilio.send(number, words.sms)
    except SmsFailed as failed:
        raise NotifyTestError(explain_sms(failed, twilio, number)) from None
    finally:
        await twilio.close()
    return (f"Sent a test SMS to {number} from {settings.twilio_from} (Twilio message "
            f"{sid}). If it does not arrive, look up that message in the Twilio console's "
            "messaging logs.")


async def send_test(settings: Settings, to: str) -> str:
    """Send the test mail or SMS; returns what to print, or raises NotifyTestError."""
    if "@" not in to:
        return await send_test_sms(settings, to)
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
