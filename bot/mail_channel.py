"""The relay's channel for `email:` outbox keys: support answers and staff alerts
(bot/support_mail.py), and order notices (bot/notice_mail.py)."""

from __future__ import annotations

from bot.channels.delivery import Outcome
from bot.messages import Reply
from bot.notice_mail import NoticeMail
from bot.support_mail import SupportMail
from core.notifications.service import NOTICE_MAIL
from core.shop import Shop


class MailChannel:
    def __init__(self, shop: Shop) -> None:
        self.support, self.notices = SupportMail(shop), NoticeMail(shop)

    async def send(self, chat_id: str, answers: list[Reply]) -> Outcome:
        kind = chat_id.partition("-")[0]
        sender = self.notices if kind == NOTICE_MAIL else self.support
        return await sender.send(chat_id, answers)

    async def close(self) -> None:
        await self.support.close()
        await self.notices.close()
