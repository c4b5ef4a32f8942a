"""Mail the notification service queued (`email:notice-<delivery id>`, core.notifications):
the rendered mail is opened from its delivery row and sent through the shop's mailer.

A recipient the server refuses for good (a 5xx for that address) is given up and logged
with the server's reason; anything else (the server down, a 4xx) is retried by the outbox.
Once sent or given up, the sealed mail is cleared from its delivery row. Each mail gets,
as it goes, a signed link to its reader's choices, and mail that is not transactional
one-click unsubscribe headers (bot/notification_pages.py).
"""

from __future__ import annotations

import logging

import aiosmtplib

from bot import logs
from bot import notification_pages as pages
from bot.channels.delivery import Outcome
from bot.messages import Reply
from core.notifications import service as notifications
from core.notifications.events import Channel
from core.notifications.mail import Email
from core.shop import Shop

log = logging.getLogger("chatcart.notice_mail")


def _refused_for_good(error: Exception) -> str | None:
    """The server's reason when it refused the recipient permanently, else None."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in error.recipients]
        if codes and all(500 <= code < 600 for code in codes):
            return "; ".join(f"{r.code} {r.message}"[:80] for r in error.recipients)
    if isinstance(error, aiosmtplib.SMTPRecipientRefused) and 500 <= error.code < 600:
        return f"{error.code} {error.message}"[:80]
    return None


class NoticeMail:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    async def send(self, chat_id: str, answers: list[Reply]) -> Outcome:
        _kind, _sep, number = chat_id.partition("-")
        if not number.isdigit():
            return Outcome.UNDELIVERABLE
        async with self.shop.sessions() as session:
            mail = await notifications.mail_for(session=session, delivery_id=int(number),
                                                vault=self.shop.vault)
            wanted = bool(mail) and await notifications.still_wanted(
                session=session, content=mail or {}, channel=Channel.EMAIL)
        if not mail or not mail.get("to") or not mail.get("subject"):
            return Outcome.UNDELIVERABLE
        if not wanted:  # turned off (one-click, the page) while it waited
            logs.event(log, "notify.withdrawn", kind=mail.get("kind"), channel="email",
                       delivery=number)
            await self._done(int(number))
            return Outcome.UNDELIVERABLE
        host = self.shop.settings.public_base_url.host or "localhost"
        email = pages.with_links(self.shop.settings, Email(
            to=str(mail["to"]), subject=str(mail["subject"]), body=str(mail.get("text") or ""),
            html=mail.get("html"), message_id=f"<notice.{str(mail['key'])[:32]}@{host}>",
            log_body=False), mail)
        try:
            await self.shop.mailer.send(email)
        except Exception as error:  # noqa: BLE001 - the outbox decides: again, or never
            reason = _refused_for_good(error)
            logs.event(log, "notify.mail_refused" if reason else "notify.mail_failed",
                       logging.WARNING, delivery=number, error=type(error).__name__,
                       reason=reason or str(error)[:120])
            if not reason:
                return Outcome.FAILED
            await self._done(int(number))
            return Outcome.UNDELIVERABLE
        await self._done(int(number))
        return Outcome.SENT

    async def _done(self, delivery_id: int) -> None:
        async with self.shop.transaction() as session:
            await notifications.mail_done(session=session, delivery_id=delivery_id)

    async def close(self) -> None:
        return None
