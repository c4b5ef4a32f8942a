"""The checkout dialog, the same on every channel: shipping address -> billing -> shipping
method -> review -> pay.

Each answer is checked as it is typed; a wrong one gets the exact reason and the same
question again, and what was right is kept. "back" returns to the previous question,
"cancel" (or the button) stops with the cart untouched. A guest gives only an email; a
linked account's email is known and its saved addresses are offered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot import actions, replies
from bot.messages import Button, Link, Reply
from bot.router import Router
from bot.turn import Turn
from core.accounts.models import User
from core.accounts.service import normalize_email
from core.carts import service as carts
from core.checkout import addresses as fields
from core.checkout import service as checkout
from core.checkout import shipping
from core.checkout.addresses import Address
from core.errors import DomainError, InvalidInput, NotFound
from core.money import format_amount
from core.orders import service as orders
from core.orders.states import LABELS, OrderStatus
from core.payments import service as payments

router = Router()
FLOW = "checkout"
CANCEL = Button("Cancel checkout", "cocancel")
BACK_WORDS = {"back", "go back", "previous"}
CANCEL_WORDS = {"cancel", "stop", "quit", "cancel checkout"}

# (the slot it fills, the question, parser(text, what is filled so far) -> the value)
Parser = Callable[[str, dict[str, Any]], str]
ADDRESS_STEPS: list[tuple[str, str, Parser]] = [
    ("name", "Who should the parcel be addressed to? (full name)",
     lambda text, _: fields.parse_name(text)),
    ("line1", "What's the street address? (number and street)",
     lambda text, _: fields.parse_line(text)),
    ("city", "Which town or city?", lambda text, _: fields.parse_city(text)),
    ("country", "Which country?", lambda text, _: fields.parse_country(text)),
    ("postal_code", "And the postal code?",
     lambda text, part: fields.parse_postal_code(text, part["country"])),
    ("phone", "A phone number for the courier? (only used if they can't find you)",
     lambda text, part: fields.parse_phone(text, part["country"])),
]


def _steps(part: str) -> list[tuple[str, str, Parser]]:
    """The questions of an address: a billing address needs no phone number."""
    return ADDRESS_STEPS if part == "ship" else ADDRESS_STEPS[:-1]


def _billing_question(turn: Turn) -> list[Reply]:
    turn.state.step = "billing"
    return _ask("Is the billing address the same as the shipping address?",
                (Button("Same as shipping", "cobill:1"), Button("Another address", "cobill:0")))


def _money(turn: Turn, amount: int) -> str:
    return format_amount(amount, turn.currency)


def _ask(text: str, *more: tuple[Button, ...]) -> list[Reply]:
    return [Reply(text, buttons=(*more, (CANCEL,)))]


@router.action("checkout")
@router.intent("checkout")
async def start(turn: Turn) -> list[Reply]:
    view = await carts.view(session=turn.session, cart=await turn.cart())
    if view.is_empty:
        return [replies.cart(view)]
    if view.problems:
        return [replies.cart(view, note="Before checking out, please fix these.")]
    turn.state.start(FLOW, "email")
    user = await turn.session.get(User, turn.user_id) if turn.user_id else None
    if user is None:
        return _ask(f"Let's check out {view.item_count} item(s) for "
                    f"{_money(turn, view.subtotal.amount)}. No account needed: what email "
                    "address should the receipt go to?")
    turn.state.slots["email"] = user.email
    known = await checkout.saved(session=turn.session, user_id=user.id, vault=turn.shop.vault)
    if known:
        turn.state.step = "saved"
        rows = tuple((Button(_short(address), actions.encode("coaddr", address_id)),)
                     for address_id, address in known[:3])
        return _ask("Where should it go?", *rows, (Button("A new address", "coaddr:0"),))
    return _address_question(turn, "ship", 0)


def _opened(turn: Turn, part: str) -> dict[str, Any]:
    """An address as far as it has been typed. Kept sealed in the chat's state: that state
    is stored (database or Redis) and addresses and phone numbers are encrypted at rest."""
    raw = turn.state.slots.get(part)
    return turn.shop.vault.open(raw) if isinstance(raw, str) and raw != "same" else {}


def _seal(turn: Turn, part: str, data: dict[str, Any]) -> None:
    turn.state.slots[part] = turn.shop.vault.seal(data)


def _address(turn: Turn, part: str) -> Address | None:
    """The complete address, or None (not given yet; for billing: same as shipping)."""
    data = _opened(turn, part)
    needed = [key for key, _, _ in _steps(part)]
    return Address.from_dict(data) if all(data.get(key) for key in needed) else None


def _short(address: Address) -> str:
    return f"{address.name}, {address.line1}, {address.city}"[:60]


def _address_question(turn: Turn, part: str, index: int) -> list[Reply]:
    steps = _steps(part)
    turn.state.step = f"{part}.{steps[index][0]}"
    question = steps[index][1]
    if part == "bill" and index == 0:
        question = "Who is the billing address in the name of?"
    return _ask(question)


@router.flow(FLOW)
async def answer(turn: Turn) -> list[Reply] | None:
    text = turn.msg.text.strip()
    lowered = text.lower().strip(".! ")
    if lowered in CANCEL_WORDS:
        return await cancel(turn)
    step = turn.state.step or ""
    if lowered in BACK_WORDS:
        return _back(turn, step)
    if step == "email":
        try:
            turn.state.slots["email"] = normalize_email(text)
        except InvalidInput as problem:
            return _ask(f"{problem.message} Please type it again.")
        return _address_question(turn, "ship", 0)
    if "." in step:
        return await _address_answer(turn, step, text)
    # A step answered with buttons: typed words are an ordinary message ("what's in my
    # cart?"), and the buttons keep working.
    return None


async def _address_answer(turn: Turn, step: str, text: str) -> list[Reply]:
    part, name = step.split(".", 1)
    steps = _steps(part)
    index = next(n for n, (key, _, _) in enumerate(steps) if key == name)
    filled = _opened(turn, part)
    try:
        filled[name] = steps[index][2](text, filled)
    except InvalidInput as problem:
        return _ask(f"{problem.message}\n{steps[index][1]}")
    _seal(turn, part, filled)
    if index + 1 < len(steps):
        return _address_question(turn, part, index + 1)
    if part == "ship":
        return _billing_question(turn)
    return await _method_menu(turn)


def _back(turn: Turn, step: str) -> list[Reply]:
    if "." in step:
        part, name = step.split(".", 1)
        steps = _steps(part)
        index = next(n for n, (key, _, _) in enumerate(steps) if key == name)
        if index > 0:
            return _address_question(turn, part, index - 1)
        if part == "bill":
            return _billing_question(turn)
    if step in ("billing", "method", "review"):
        return _address_question(turn, "ship", len(ADDRESS_STEPS) - 1)
    return _ask("This is the first question. Type your answer, or cancel.")


@router.action("coaddr")
async def use_saved(turn: Turn) -> list[Reply]:
    if turn.state.flow != FLOW or turn.action is None or turn.user_id is None:
        return await start(turn)
    (address_id,) = turn.action.args
    known = dict(await checkout.saved(session=turn.session, user_id=turn.user_id,
                                      vault=turn.shop.vault))
    if address_id not in known:
        return _address_question(turn, "ship", 0)
    _seal(turn, "ship", known[address_id].to_dict())
    turn.state.slots["bill"] = "same"
    return await _method_menu(turn)


@router.action("cobill")
async def billing(turn: Turn) -> list[Reply]:
    if turn.state.flow != FLOW or turn.action is None or _address(turn, "ship") is None:
        return await start(turn)
    if turn.action.args[0] == 1:
        turn.state.slots["bill"] = "same"
        return await _method_menu(turn)
    turn.state.slots.pop("bill", None)
    return _address_question(turn, "bill", 0)


@router.action("coship")
async def choose_method(turn: Turn) -> list[Reply]:
    if turn.state.flow != FLOW or turn.action is None or _address(turn, "ship") is None:
        return await start(turn)
    cart = await turn.cart()
    view = await carts.view(session=turn.session, cart=cart)
    options = shipping.methods(view.subtotal.amount)
    index = turn.action.args[0]
    if index >= len(options):
        return await _method_menu(turn)
    turn.state.slots["method"] = options[index].code
    return await _review(turn)


async def _method_menu(turn: Turn) -> list[Reply]:
    turn.state.step = "method"
    view = await carts.view(session=turn.session, cart=await turn.cart())
    rows = tuple((Button(f"{m.label} · {_money(turn, m.price_minor) if m.price_minor else 'free'}"
                         f" ({m.days})", actions.encode("coship", n)),)
                 for n, m in enumerate(shipping.methods(view.subtotal.amount)))
    return _ask("How should it be shipped?", *rows)


async def _review(turn: Turn) -> list[Reply]:
    turn.state.step = "review"
    slots = turn.state.slots
    cart = await turn.cart()
    view = await carts.view(session=turn.session, cart=cart)
    if view.is_empty or view.problems:
        turn.state.finish()
        return [replies.cart(view, note="Your cart changed, so checkout stopped.")]
    totals = await checkout.quote(session=turn.session, cart=cart, method=slots["method"],
                                  tax_basis_points=turn.shop.settings.tax_basis_points)
    ship = _address(turn, "ship")
    assert ship is not None
    lines = ["Please check your order:"]
    lines += [f"• {line.quantity} × {line.name} = {_money(turn, line.line_total.amount)}"
              for line in view.lines]
    label = shipping.method(slots["method"], view.subtotal.amount).label
    lines.append(f"Subtotal: {_money(turn, totals.subtotal_minor)}")
    lines.append(f"{label} shipping: {_money(turn, totals.shipping_minor)}")
    if totals.tax_minor:
        lines.append(f"Tax: {_money(turn, totals.tax_minor)}")
    lines.append(f"Total: {_money(turn, totals.total_minor)}")
    lines.append("Ship to: " + ", ".join(ship.lines()))
    bill = _address(turn, "bill")
    lines.append("Billing: same as shipping" if bill is None else
                 "Billing: " + ", ".join(bill.lines()))
    lines.append(f"Receipt to: {slots.get('email')}")
    pay = tuple(Button(f"Pay {_money(turn, totals.total_minor)}"
                       + (f" with {gateway.label}" if len(turn.shop.gateways) > 1 else ""),
                       actions.encode("copay", n, totals.total_minor))
                for n, gateway in enumerate(_gateways(turn)))
    return [Reply("\n".join(lines), buttons=(
        pay, (Button("Change address", "coedit:0"), Button("Change shipping", "coedit:1")),
        (CANCEL,)))]


def _gateways(turn: Turn) -> list[Any]:
    return [turn.shop.gateways[name] for name in sorted(turn.shop.gateways)]


@router.action("coedit")
async def edit(turn: Turn) -> list[Reply]:
    if turn.state.flow != FLOW or turn.action is None or _address(turn, "ship") is None:
        return await start(turn)
    if turn.action.args[0] == 1:
        return await _method_menu(turn)
    turn.state.slots.pop("ship", None)
    turn.state.slots.pop("bill", None)
    return _address_question(turn, "ship", 0)


@router.action("copay")
async def pay(turn: Turn) -> list[Reply]:
    slots = turn.state.slots
    if turn.state.flow != FLOW or turn.action is None or "method" not in slots:
        return await start(turn)
    gateway_index, expected = turn.action.args
    gateways = _gateways(turn)
    if gateway_index >= len(gateways):
        return await _review(turn)
    gateway = gateways[gateway_index]
    settings = turn.shop.settings
    ship = _address(turn, "ship")
    if ship is None:
        return await start(turn)
    details = checkout.Details(shipping=ship, method=slots["method"],
                               billing=_address(turn, "bill"), email=slots.get("email"))
    try:
        async with turn.session.begin_nested():  # a refusal undoes the order, not the turn
            order, payment = await _place_and_link(turn, details, expected, gateway)
    except DomainError as refused:
        return [Reply(refused.message)] + await _review(turn)
    turn.state.finish()
    test = (" This shop takes test payments only: no money moves."
            if gateway.is_test else "")
    assert payment.url is not None
    return [Reply(f"Order {order.number} is reserved for you for "
                  f"{settings.reservation_minutes} minutes. Pay "
                  f"{_money(turn, order.total_minor)} on {gateway.page}; "
                  f"I'll confirm here as soon as the payment arrives.{test}",
                  links=(Link(f"Pay {_money(turn, order.total_minor)}", payment.url,
                              is_payment=True),),
                  buttons=((Button("Order status", actions.order(order.number)),
                            Button("Menu", "menu")),))]


async def _place_and_link(turn: Turn, details: checkout.Details, expected: int,
                          gateway: Any) -> tuple[Any, Any]:
    settings = turn.shop.settings
    order = await checkout.place(
        session=turn.session, cart=await turn.cart(), details=details, vault=turn.shop.vault,
        secret_key=settings.secret_key, actor=turn.actor, chat_key=turn.msg.chat.session_key,
        reservation_minutes=settings.reservation_minutes,
        tax_basis_points=settings.tax_basis_points, expected_total_minor=expected)
    payment = await payments.start(session=turn.session, order=order, gateway=gateway,
                                   capture=settings.payment_capture == "immediate",
                                   actor=turn.actor)
    return order, payment


@router.action("repay")
async def pay_again(turn: Turn) -> list[Reply]:
    """A new payment link for an order still awaiting payment (after a decline, say)."""
    number = turn.action.order_number if turn.action else None
    try:
        order = await orders.find_by_number(session=turn.session, text=number or "",
                                            user_id=turn.user_id, identity_id=turn.seen.identity_id)
    except (NotFound, InvalidInput) as missing:
        return [replies.menu(missing.message)]
    if order.status is not OrderStatus.PENDING_PAYMENT:
        return [replies.menu(f"Order {order.number} is {LABELS[order.status]}: there is "
                             "nothing to pay.")]
    gateways = _gateways(turn)
    payment = await payments.start(
        session=turn.session, order=order, gateway=gateways[0],
        capture=turn.shop.settings.payment_capture == "immediate", actor=turn.actor)
    assert payment.url is not None
    total = _money(turn, order.total_minor)
    return [Reply(f"Here is a new link to pay {total} for order {order.number}.",
                  links=(Link(f"Pay {total}", payment.url, is_payment=True),),
                  buttons=((Button("Order status", actions.order(order.number)),
                            Button("Menu", "menu")),))]


@router.action("cocancel")
async def cancel(turn: Turn) -> list[Reply]:
    turn.state.finish()
    return [replies.menu("Checkout stopped. Your cart is kept for whenever you're ready.")]

