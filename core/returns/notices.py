"""What the shop tells a shopper about their return as staff move it along, through the
notification service (core.notifications), in the same transaction as the change: to the
chat the return was asked from, and by mail to the order's address, as the order's own
news goes (one event per step, so a step replayed tells nobody twice)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import _
from core.money import format_amount
from core.notifications import service as notifications
from core.notifications.events import Channel, Event, Recipient
from core.orders.models import Order
from core.orders.notices import holder_of
from core.returns.models import ReturnRequest


def _buttons() -> list[list[dict[str, str]]]:
    return [[{"label": _("My returns"), "action": "returns"},
             {"label": _("Menu"), "action": "menu"}]]


async def _tell(session: AsyncSession, ret: ReturnRequest, kind: str, occurrence: str = "",
                **context: Any) -> None:
    order = await session.get(Order, ret.order_id)
    recipients = [Recipient(Channel.CHAT, ret.chat_key)] if ret.chat_key else []
    if order is not None and order.email:
        recipients.append(Recipient(Channel.EMAIL, order.email))
    event = Event(kind=kind, subject=f"return:{ret.id}", occurrence=occurrence,
                  context={"number": ret.number, **context}, buttons=_buttons())
    await notifications.notify(session=session, event=event, recipients=recipients,
                               holder=holder_of(session, order) if order else None)


async def approved(session: AsyncSession, ret: ReturnRequest, order_number: str,
                   instructions: str) -> None:
    await _tell(session, ret, "return_approved", order=order_number,
                instructions=instructions)


async def refused(session: AsyncSession, ret: ReturnRequest, order_number: str,
                  reason: str) -> None:
    await _tell(session, ret, "return_refused", order=order_number, reason=reason)


async def received(session: AsyncSession, ret: ReturnRequest) -> None:
    await _tell(session, ret, "return_received")


async def refunded(session: AsyncSession, ret: ReturnRequest, currency: str) -> None:
    await _tell(session, ret, "return_refunded",
                amount=format_amount(ret.refunded_minor, currency))


async def refunded_earlier(session: AsyncSession, ret: ReturnRequest, currency: str) -> None:
    """The return's items were refunded by hand before it reached this step."""
    await _tell(session, ret, "return_refunded_earlier",
                amount=format_amount(ret.refunded_minor, currency))
