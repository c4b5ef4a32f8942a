"""What the shop tells a shopper about their return as staff move it along, queued to the
chat the return was asked from (core.outbox), in the same transaction as the change."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import _
from core.money import format_amount
from core.outbox import service as outbox
from core.returns.models import ReturnRequest


def _buttons() -> list[list[dict[str, str]]]:
    return [[{"label": _("My returns"), "action": "returns"},
             {"label": _("Menu"), "action": "menu"}]]


async def _tell(session: AsyncSession, ret: ReturnRequest, text: str) -> None:
    await outbox.enqueue(session=session, chat_key=ret.chat_key, text=text, buttons=_buttons())


async def approved(session: AsyncSession, ret: ReturnRequest, order_number: str,
                   instructions: str) -> None:
    await _tell(session, ret, _(
        "Good news: your return {number} for order {order} is approved. How to send the "
        "items back:\n{instructions}", number=ret.number, order=order_number,
        instructions=instructions))


async def refused(session: AsyncSession, ret: ReturnRequest, order_number: str,
                  reason: str) -> None:
    await _tell(session, ret, _(
        "Sorry, we can't accept return {number} for order {order}. Our team says:\n{reason}",
        number=ret.number, order=order_number, reason=reason))


async def received(session: AsyncSession, ret: ReturnRequest) -> None:
    await _tell(session, ret, _(
        "We've received the items of return {number}. Your refund comes next.",
        number=ret.number))


async def refunded(session: AsyncSession, ret: ReturnRequest, currency: str) -> None:
    await _tell(session, ret, _(
        "Return {number} is complete: {amount} is on its way back to you.",
        number=ret.number, amount=format_amount(ret.refunded_minor, currency)))


async def refunded_earlier(session: AsyncSession, ret: ReturnRequest, currency: str) -> None:
    """The return's items were refunded by hand before it reached this step."""
    await _tell(session, ret, _(
        "Return {number} is complete: {amount} was already refunded to you for these items.",
        number=ret.number, amount=format_amount(ret.refunded_minor, currency)))
