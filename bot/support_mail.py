"""Support mail, the relay's sender for `email:` keys (both queued by core.support):

- `email:support-<handoff id>`: an agent's answer to a request made while nobody was
  online (core.support.conversations.agent_reply), so it reaches the shopper even when
  the chat is closed or gone. The address is kept sealed on the request and opened only
  here, as the mail goes out.
- `email:alerts-<user id>`: a batch of staff alerts (core.nudges.staff_alerts: low stock,
  shoppers nobody took in time), to each active admin; the address is read here, so a
  deactivated admin gets nothing. `email:staff-<user id>` is the older form of it.

The durable outbox retries a failed send like any channel's.
"""

from __future__ import annotations

import logging

from bot import logs
from bot.channels.delivery import Outcome
from bot.messages import Reply
from core.accounts.models import Role, User
from core.i18n import _
from core.notifications.mail import Email
from core.nudges.staff_alerts import ALERTS_MAIL
from core.shop import Shop
from core.support import conversations
from core.support.conversations import STAFF_MAIL, TICKET_MAIL
from core.support.models import HandoffRequest

log = logging.getLogger("chatcart.support_mail")


class SupportMail:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    async def send(self, chat_id: str, answers: list[Reply]) -> Outcome:
        kind, _sep, number = chat_id.partition("-")
        if kind not in (TICKET_MAIL, STAFF_MAIL, ALERTS_MAIL) or not number.isdigit():
            return Outcome.UNDELIVERABLE
        async with self.shop.sessions() as session:
            if kind == TICKET_MAIL:
                request = await session.get(HandoffRequest, int(number))
                address = conversations.contact_email(session, request) if request else None
                subject = _("An answer from our team")
            else:
                admin = await session.get(User, int(number))
                address = admin.email if admin is not None and admin.is_active \
                    and admin.role is Role.ADMIN else None
                subject = (_("Alerts from your shop") if kind == ALERTS_MAIL
                           else _("Shoppers are waiting for a person"))
        if not address:
            return Outcome.UNDELIVERABLE
        body = "\n\n".join(answer.text for answer in answers)
        try:
            await self.shop.mailer.send(Email(address, subject, body))
        except Exception:  # noqa: BLE001 - the outbox tries again later
            logs.event(log, "support.mail_failed", logging.WARNING, kind=kind, number=number)
            return Outcome.FAILED
        return Outcome.SENT

    async def close(self) -> None:
        return None
