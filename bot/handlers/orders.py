"""A shopper's orders: history, status by number (with its returns), and cancelling one
not yet shipped (a paid one only once the shopper confirms with a button)."""

from __future__ import annotations

from bot import actions, replies
from bot.messages import Button, Reply
from bot.router import Router
from bot.turn import Turn
from core.errors import Conflict, InvalidInput, NotFound
from core.i18n import _
from core.orders import service as orders
from core.orders.models import Order
from core.orders.states import LABELS, OrderStatus
from core.payments import service as payments
from core.returns import service as returns
from core.returns import states as return_states

router = Router()


def _owner(turn: Turn) -> dict[str, int | None]:
    """An account sees its orders from every chat; a guest sees this chat's."""
    return {"user_id": turn.user_id, "identity_id": turn.seen.identity_id}


@router.action("orders")
@router.intent("order_history")
async def history(turn: Turn) -> list[Reply]:
    recent = await orders.history(session=turn.session, limit=5, **_owner(turn))
    if not recent:
        return [replies.menu("You have no orders yet.")]
    lines = ["Your recent orders:"]
    for order in recent:
        lines.append(f"• {order.number} — {order.created_at:%d %b %Y} — "
                     f"{replies.money(order.total_minor, order.currency)} — "
                     f"{LABELS[order.status]}")
    rows = tuple((Button(order.number, actions.order(order.number)),) for order in recent)
    return [Reply("\n".join(lines), buttons=rows + (replies.MENU_ROW,))]


async def _tracking(turn: Turn, order: Order) -> str:
    for event in reversed(await orders.events(session=turn.session, order=order)):
        if event.data.get("to") == OrderStatus.SHIPPED and event.data.get("tracking_number"):
            return f"Tracking: {event.data.get('carrier', '')} {event.data['tracking_number']}"
    return ""


async def _find(turn: Turn, by_email: bool = False) -> tuple[Order | None, list[Reply]]:
    """The order the shopper names: their own, or (`by_email`, to look, never to change)
    one they follow by its number plus the email given at checkout, from any chat."""
    number = turn.action.order_number if turn.action else None
    email = turn.understood.first("email") if turn.understood is not None else None
    if number is None and turn.understood is not None:
        number = turn.understood.first("order_id")
    if number is None:
        return None, await history(turn)
    buttons = ((Button(_("My orders"), "orders"), Button(_("Menu"), "menu")),)
    try:
        return await orders.find_by_number(session=turn.session, text=number,
                                           **_owner(turn)), []
    except InvalidInput as problem:
        return None, [Reply(problem.message, buttons=buttons)]
    except NotFound as missing:
        # Someone else's order looks exactly like one that does not exist.
        if not by_email:
            return None, [Reply(missing.message, buttons=buttons)]
        if email is None:
            return None, [Reply(_("I can't find an order {number}. If you ordered in another "
                                  "chat or as a guest, send the order number with the email "
                                  "address you gave, like this: {number} ann@example.com",
                                  number=missing.details.get("number", number.upper())),
                                buttons=buttons)]
    try:
        return await orders.find_for_guest(session=turn.session, text=number, email=email,
                                           asker=turn.msg.chat.session_key), []
    except NotFound as problem:
        return None, [Reply(_("I can't find an order {number}.",
                              number=problem.details.get("number", number.upper())),
                            buttons=buttons)]
    except Conflict as slowed:
        return None, [Reply(_("Too many tries: please wait {seconds} seconds and try again.",
                              seconds=slowed.details.get("seconds", 60)), buttons=buttons)]


@router.action("ord")
@router.intent("order_status")
async def status(turn: Turn) -> list[Reply]:
    order, answer = await _find(turn, by_email=True)
    if order is None:
        return answer
    lines = [f"Order {order.number}: {LABELS[order.status]}."]
    lines += [f"• {line.quantity} × {line.name}" for line in order.lines]
    lines.append(f"Total: {replies.money(order.total_minor, order.currency)}")
    if tracking := await _tracking(turn, order):
        lines.append(tracking)
    for ret in await returns.for_order(session=turn.session, order_id=order.id):
        lines.append(_("Return {number}: {state}", number=ret.number,
                       state=return_states.label(ret.status)))
    return [Reply("\n".join(lines), buttons=((Button("My orders", "orders"),
                                              Button("Menu", "menu")),))]


# Money has been held or taken in these: cancelling gives it back, so the shopper confirms.
PAID = frozenset({OrderStatus.AUTHORIZED, OrderStatus.PAID, OrderStatus.PROCESSING,
                  OrderStatus.PARTIALLY_REFUNDED})


@router.intent("cancel_order")
async def cancel(turn: Turn) -> list[Reply]:
    """One sentence never cancels a paid order: the shopper confirms with a button."""
    order, answer = await _find(turn)
    if order is None:
        return answer
    refused = _cannot_cancel(order)
    if refused is not None:
        return refused
    if order.status in PAID:
        return [Reply(_("Cancel order {number}? The {amount} you paid will be refunded.",
                        number=order.number,
                        amount=replies.money(order.total_minor - order.refunded_minor,
                                             order.currency)),
                      buttons=((Button(_("Yes, cancel {number}", number=order.number),
                                       f"cancelok:{order.number}"),
                                Button(_("Keep the order"), "menu")),))]
    return await _cancel(turn, order)


@router.action("cancelok")
async def confirmed_cancel(turn: Turn) -> list[Reply]:
    order, answer = await _find(turn)
    if order is None:
        return answer
    return _cannot_cancel(order) or await _cancel(turn, order)


def _cannot_cancel(order: Order) -> list[Reply] | None:
    if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        return [replies.menu(f"Order {order.number} is already {LABELS[order.status]}.")]
    if not payments.unshipped(order):
        return [Reply(_("Order {number} is {state}, so it can't be cancelled any more; you "
                        "can return items from it instead.", number=order.number,
                        state=LABELS[order.status]),
                      buttons=((Button(_("Return items"), f"retord:{order.number}"),
                                Button(_("Menu"), "menu")),))]
    return None


async def _cancel(turn: Turn, order: Order) -> list[Reply]:
    refunded = await payments.cancel_order(session=turn.session, order=order,
                                           gateways=turn.shop.gateways, actor=turn.actor,
                                           reason="shopper cancelled in chat", notify=False)
    money = (f" {replies.money(refunded, order.currency)} is being refunded to you."
             if refunded else " Nothing was charged.")
    return [replies.menu(f"Order {order.number} is cancelled.{money}")]
