"""Answers to a support ticket by email: the relay's sender for `email:support-<id>` keys.

An agent's answer to a request made while nobody was online is also queued to that key
(core.support.conversations.agent_reply), so it reaches the shopper even when the chat is
closed or gone. The address is kept sealed on the request and opened only here, as the
mail goes out; the durable outbox retries like any channel.
"""

from __future__ import annotations

import logging

from bot import logs
from bot.channels.delivery import Outcome
from bot.messages import Reply
from core.i18n import _
from core.notifications.mail import Email
from core.shop import Shop
from core.support import conversations
from core.support.models import HandoffRequest

log = logging.getLogger("chatcart.support_mail")


class SupportMail:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    async def send(self, chat_id: str, answers: list[Reply]) -> Outcome:
        kind, _sep, number = chat_id.partition("-")
        if kind != "support" or not number.isdigit():
            return Outcome.UNDELIVERABLE
        async with self.shop.sessions() as session:
            request = await session.get(HandoffRequest, int(number))
            address = conversations.contact_email(session, request) if request else None
        if not address:
            return Outcome.UNDELIVERABLE
        body = "\n\n".join(answer.text for answer in answers)
        try:
            await self.shop.mailer.send(Email(address, _("An answer from our team"), body))
        except Exception:  # noqa: BLE001 - the outbox tries again later
            logs.event(log, "support.mail_failed", logging.WARNING, handoff=number)
            return Outcome.FAILED
        return Outcome.SENT

    async def close(self) -> None:
        return None
