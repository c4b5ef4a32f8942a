"""What the shop tells a shopper on its own about their order, through the notification
service (core.notifications), in the same transaction as the change itself: to the chat
they ordered from, by mail to the address given at checkout (a guest's too), by SMS to the
number one of the order's holders agreed to get SMS at (core.notifications.holders: an
account's; a guest's chat, then its checkout email), and by web push to the browsers that
web chat subscribed (core.notifications.push).

Each notice is one event per order (with `occurrence` where one kind can happen again,
such as a second partial refund), so a replayed webhook tells nobody twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.checkout.addresses import Address
from core.checkout.shipping import methods
from core.crypto import Vault
from core.i18n import _
from core.money import format_amount
from core.notifications import holders, preferences, push, tracking
from core.notifications import service as notifications
from core.notifications.events import Channel, Event, Recipient
from core.orders.models import Order
from core.outbox.service import VAULT

CHAT_ONLY = frozenset({"order_payment_expired", "order_payment_returned",
                       "order_late_payment_returned"})


def _buttons(order: Order) -> list[list[dict[str, str]]]:
    return [[{"label": "Order status", "action": f"ord:{order.number}"},
             {"label": "My orders", "action": "orders"}]]


def _pay_again(order: Order) -> list[list[dict[str, str]]]:
    return [[{"label": "Pay again", "action": f"repay:{order.number}"},
             {"label": "Order status", "action": f"ord:{order.number}"}]]


def receipt_lines(order: Order, vault: Vault) -> list[str]:
    """The order as a receipt, a line each: items, totals, where it goes."""
    money = lambda amount: format_amount(amount, order.currency)  # noqa: E731
    lines = [_("• {quantity} × {name} ({price}) = {total}", quantity=line.quantity,
               name=line.name, price=money(line.unit_price_minor),
               total=money(line.line_total_minor)) for line in order.lines]
    lines.append(_("Subtotal: {amount}", amount=money(order.subtotal_minor)))
    label = next((m.label for m in methods(order.subtotal_minor)
                  if m.code == order.shipping_method), "Shipping")
    lines.append(_("{method} shipping: {amount}", method=label,
                   amount=money(order.shipping_minor)))
    if order.tax_minor:
        lines.append(_("Tax: {amount}", amount=money(order.tax_minor)))
    lines.append(_("Total: {amount}", amount=money(order.total_minor)))
    if order.shipping_sealed:  # the phone stays out: this text is kept as a chat message
        address = Address.from_dict(vault.open(order.shipping_sealed))
        lines.append(_("Ships to: {address}", address=", ".join(address.lines(phone=False))))
    return lines


def receipt(order: Order, vault: Vault) -> str:
    return "\n".join(receipt_lines(order, vault))


def recipients(order: Order, kind: str, sms: str | None = None) -> list[Recipient]:
    """The order's chat, and unless the notice is chat-only the address given at checkout
    and the agreed SMS number `sms` (the service sends SMS only for kinds with an `sms`
    block)."""
    found = [Recipient(Channel.CHAT, order.chat_key)] if order.chat_key else []
    if order.email and kind not in CHAT_ONLY:
        found.append(Recipient(Channel.EMAIL, order.email))
    if sms and kind not in CHAT_ONLY:
        found.append(Recipient(Channel.SMS, sms))
    return found


async def sms_number(session: AsyncSession, holders: str | list[str] | None) -> str | None:
    """The number the first of the holders that agreed to get SMS agreed to; None
    without a yes."""
    found = await preferences.agreed_numbers(session=session, holder=holders,
                                             vault=session.info[VAULT])
    return found[0] if found else None


async def _tell(session: AsyncSession, order: Order, kind: str, occurrence: str = "",
                buttons: list[list[dict[str, str]]] | None = None, **context: Any) -> None:
    event = Event(kind=kind, subject=f"order:{order.id}", occurrence=occurrence,
                  context={"number": order.number, **context},
                  buttons=buttons or _buttons(order))
    holder = holder_of(session, order)
    found = recipients(order, kind, await sms_number(session, holder))
    if kind not in CHAT_ONLY:  # and the browsers the order's web chat asked for news in
        found += await push.recipients(session=session, chat_key=order.chat_key)
    await notifications.notify(session=session, event=event, recipients=found, holder=holder)


def holder_of(session: AsyncSession, order: Order) -> list[str]:
    """Whose notification choices apply to this order's news (`holders.of_order`: the
    account's, else the guest's chat's and checkout email's, combined)."""
    return holders.of_order(session.info[VAULT], order)


async def confirmed(session: AsyncSession, order: Order, vault: Vault, *,
                    authorized: bool, test: bool = False) -> None:
    await _tell(session, order, "order_confirmed", authorized=authorized, test=test,
                receipt=receipt_lines(order, vault),
                guest=order.email if order.user_id is None else None)


async def payment_failed(session: AsyncSession, order: Order, occurrence: str = "") -> None:
    await _tell(session, order, "order_payment_failed", occurrence, _pay_again(order))


async def payment_expired(session: AsyncSession, order: Order) -> None:
    await _tell(session, order, "order_payment_expired")


async def payment_returned(session: AsyncSession, order: Order, occurrence: str = "") -> None:
    await _tell(session, order, "order_payment_returned", occurrence, _pay_again(order))


async def late_payment_returned(session: AsyncSession, order: Order,
                                occurrence: str = "") -> None:
    await _tell(session, order, "order_late_payment_returned", occurrence)


async def cancelled(session: AsyncSession, order: Order, refunded_minor: int) -> None:
    await _tell(session, order, "order_cancelled",
                refunded=format_amount(refunded_minor, order.currency) if refunded_minor
                else None)


async def refunded(session: AsyncSession, order: Order, amount_minor: int) -> None:
    """One event per refund: told apart by how much had been refunded once it was done."""
    await _tell(session, order, "order_refunded", f"refunded-{order.refunded_minor}",
                amount=format_amount(amount_minor, order.currency))


async def preparing(session: AsyncSession, order: Order) -> None:
    await _tell(session, order, "order_preparing")


async def delivered(session: AsyncSession, order: Order) -> None:
    await _tell(session, order, "order_delivered")


async def shipped(session: AsyncSession, order: Order, carrier: str, tracking_number: str
                  ) -> None:
    await _tell(session, order, "order_shipped", carrier=carrier, tracking=tracking_number,
                tracking_url=tracking.link(carrier, tracking_number))
