"""What the shop tells a shopper on its own about their order, queued to the chat they
ordered from (core.outbox) in the same transaction as the change itself.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.checkout.addresses import Address
from core.checkout.shipping import methods
from core.crypto import Vault
from core.money import format_amount
from core.orders.models import Order
from core.outbox import service as outbox


def _buttons(order: Order) -> list[list[dict[str, str]]]:
    return [[{"label": "Order status", "action": f"ord:{order.number}"},
             {"label": "My orders", "action": "orders"}]]


def receipt(order: Order, vault: Vault) -> str:
    """The order as a receipt: lines, totals, where it goes."""
    money = lambda amount: format_amount(amount, order.currency)  # noqa: E731
    lines = [f"• {line.quantity} × {line.name} ({money(line.unit_price_minor)}) = "
             f"{money(line.line_total_minor)}" for line in order.lines]
    lines.append(f"Subtotal: {money(order.subtotal_minor)}")
    label = next((m.label for m in methods(order.subtotal_minor)
                  if m.code == order.shipping_method), "Shipping")
    lines.append(f"{label} shipping: {money(order.shipping_minor)}")
    if order.tax_minor:
        lines.append(f"Tax: {money(order.tax_minor)}")
    lines.append(f"Total: {money(order.total_minor)}")
    if order.shipping_sealed:  # the phone stays out: this text is kept as a chat message
        address = Address.from_dict(vault.open(order.shipping_sealed))
        lines.append("Ships to: " + ", ".join(address.lines(phone=False)))
    return "\n".join(lines)


async def _tell(session: AsyncSession, order: Order, text: str,
                buttons: list[list[dict[str, str]]] | None = None) -> None:
    if order.chat_key:
        await outbox.enqueue(session=session, chat_key=order.chat_key, text=text,
                             buttons=buttons or _buttons(order))


async def confirmed(session: AsyncSession, order: Order, vault: Vault, *,
                    authorized: bool, test: bool = False) -> None:
    how = ("Your payment is authorized; it is charged when the order ships."
           if authorized else "Payment received.")
    if test:
        how += " (A TEST payment: no money moved.)"
    await _tell(session, order, f"Thank you! Order {order.number} is confirmed. {how}\n"
                                f"{receipt(order, vault)}")


def _pay_again(order: Order) -> list[list[dict[str, str]]]:
    return [[{"label": "Pay again", "action": f"repay:{order.number}"},
             {"label": "Order status", "action": f"ord:{order.number}"}]]


async def payment_failed(session: AsyncSession, order: Order) -> None:
    await _tell(session, order, f"The payment for order {order.number} didn't go through, so "
                                "nothing was charged. The order is still reserved for you: you "
                                "can try again.", _pay_again(order))


async def payment_expired(session: AsyncSession, order: Order) -> None:
    await _tell(session, order, f"Order {order.number} was cancelled because its payment "
                                "didn't arrive in time; the items are back on sale. You can "
                                "order them again any time.")


async def payment_returned(session: AsyncSession, order: Order) -> None:
    await _tell(session, order, f"The payment for order {order.number} didn't match the "
                                "order's amount, so it is being returned to you in full. You "
                                "can pay again.", _pay_again(order))


async def late_payment_returned(session: AsyncSession, order: Order) -> None:
    await _tell(session, order, f"A payment for order {order.number} arrived after the order "
                                "had been cancelled, so it is being returned to you in full.")


async def cancelled(session: AsyncSession, order: Order, refunded_minor: int) -> None:
    money = (f" {format_amount(refunded_minor, order.currency)} is on its way back to you."
             if refunded_minor else " Nothing was charged.")
    await _tell(session, order, f"Order {order.number} is cancelled.{money}")


async def refunded(session: AsyncSession, order: Order, amount_minor: int) -> None:
    await _tell(session, order, f"We've refunded {format_amount(amount_minor, order.currency)} "
                                f"for order {order.number}.")


async def shipped(session: AsyncSession, order: Order, carrier: str, tracking: str) -> None:
    await _tell(session, order, f"Good news: order {order.number} is on its way with "
                                f"{carrier} (tracking number {tracking}).")
