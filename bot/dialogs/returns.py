"""The return dialog, the same on every channel: order -> items and how many -> reason ->
a few words (or skip) -> the return is requested -> photos, if the shopper has some.

The return is recorded as soon as the reason is given, so a shopper who walks away
before sending photos has still asked; photos join it afterwards. Orders offered are the
shopper's own that were sent (an account's from every chat, a guest's from this one).
Asking for a return ("I want to send this back", "where is my return?") also lists the
returns under way, with their state. Another shopper's order number reads exactly like
one that does not exist.
"""

from __future__ import annotations

import asyncio

from bot import actions, replies
from bot.messages import Button, Reply
from bot.router import Router
from bot.turn import Turn
from core.catalog.images import check_image
from core.errors import DomainError
from core.i18n import _
from core.orders.models import Order
from core.orders.numbers import parse_number
from core.returns import photos, states
from core.returns import service as returns
from core.returns.errors import ReturnError
from core.returns.models import ReturnReason

router = Router()
FLOW = "return"
CANCEL_WORDS = {"cancel", "stop", "quit", "never mind"}
MAX_CHOICES = 6  # quantity buttons; more can be typed


def _reasons() -> list[tuple[ReturnReason, str]]:
    return [(ReturnReason.DAMAGED, _("Arrived damaged")),
            (ReturnReason.WRONG_ITEM, _("Wrong item")),
            (ReturnReason.NOT_AS_DESCRIBED, _("Not as described")),
            (ReturnReason.DOES_NOT_FIT, _("Doesn't fit")),
            (ReturnReason.CHANGED_MIND, _("Changed my mind")),
            (ReturnReason.OTHER, _("Something else"))]


def _stop_row() -> tuple[Button, ...]:
    return (Button(_("Stop the return"), "retstop"),)


def _owner(turn: Turn) -> dict[str, int | None]:
    return {"user_id": turn.user_id, "identity_id": turn.seen.identity_id}


async def _under_way(turn: Turn) -> list[str]:
    """One line per return the shopper has asked for, newest first."""
    found = await returns.for_shopper(session=turn.session, **_owner(turn))
    return [_("• {number} for order {order}: {state}", number=ret.number,
              order=order.number, state=states.label(ret.status)) for ret, order in found]


@router.action("returns")
@router.intent("return_request")
async def start(turn: Turn) -> list[Reply]:
    """"I want to return something" and "where is my return?" both come here."""
    listed = await _under_way(turn)
    said = turn.understood.first("order_id") if turn.understood else None
    if said is not None and turn.msg.text:
        turn.state.start(FLOW, "order")
        return await _pick(turn, said, listed)
    candidates = await returns.shopper_orders(session=turn.session, **_owner(turn))
    head = [_("Your returns:"), *listed] if listed else []
    if not candidates:
        text = _("You have no orders that have been sent, so there is nothing to return yet.")
        return [replies.menu("\n".join([*head, text]))]
    turn.state.start(FLOW, "order")
    rows = tuple((Button(f"{order.number} · {order.created_at:%d %b %Y}",
                         f"retord:{order.number}"),) for order in candidates)
    text = _("Which order would you like to return items from?")
    return [Reply("\n".join([*head, text]), buttons=(*rows, _stop_row()))]


async def _pick(turn: Turn, number: str, listed: list[str] | None = None) -> list[Reply]:
    try:
        order = await returns.find_order(session=turn.session, text=number, **_owner(turn))
        await returns.check_returnable(session=turn.session, order=order,
                                       window_days=turn.shop.settings.return_window_days)
    except DomainError as refused:
        turn.state.finish()
        return [Reply("\n".join([*(listed or []), refused.message]),
                      buttons=((Button(_("My orders"), "orders"), Button(_("Menu"), "menu")),))]
    left = await returns.returnable(session=turn.session, order=order)
    if not any(left.values()):
        turn.state.finish()
        return [replies.menu(_("Everything from order {number} is already refunded or in a "
                               "return.", number=order.number))]
    turn.state.start(FLOW, "lines")
    turn.state.slots.update(order=order.number, units={})
    return await _lines(turn, order)


async def _order(turn: Turn) -> Order | None:
    """The order the dialog is about, read again (someone may have refunded it meanwhile)."""
    number = turn.state.slots.get("order")
    if turn.state.flow != FLOW or not isinstance(number, str):
        return None
    try:
        return await returns.find_order(session=turn.session, text=number, **_owner(turn))
    except DomainError:
        return None


def _units(turn: Turn) -> dict[int, int]:
    chosen: dict[str, int] = turn.state.slots.get("units") or {}
    return {int(line): units for line, units in chosen.items() if units}


async def _lines(turn: Turn, order: Order) -> list[Reply]:
    turn.state.step = "lines"
    left = await returns.returnable(session=turn.session, order=order)
    chosen = _units(turn)
    text = [_("Which items from order {number}? Tap one to say how many.",
              number=order.number)]
    rows: list[tuple[Button, ...]] = []
    for line in order.lines:
        if chosen.get(line.id):
            text.append(_("• {name}: returning {count}", name=line.name, count=chosen[line.id]))
        elif left.get(line.id):
            text.append(_("• {name}: {count} can be returned", name=line.name,
                          count=left[line.id]))
        if left.get(line.id):
            rows.append((Button(line.name[:40], actions.encode("retline", line.id)),))
    if chosen:
        rows.append((Button(_("Continue"), "retnext"),))
    return [Reply("\n".join(text), buttons=(*rows, _stop_row()))]


@router.action("retord")
async def choose_order(turn: Turn) -> list[Reply]:
    number = turn.action.order_number if turn.action else None
    if turn.state.flow != FLOW:
        turn.state.start(FLOW, "order")
    return await _pick(turn, number or "")


@router.action("retline")
async def choose_line(turn: Turn) -> list[Reply]:
    order = await _order(turn)
    if order is None or turn.action is None:
        return await start(turn)
    (line_id,) = turn.action.args
    left = (await returns.returnable(session=turn.session, order=order)).get(line_id, 0)
    line = next((line for line in order.lines if line.id == line_id), None)
    if line is None or not left:
        return await _lines(turn, order)
    turn.state.step = "qty"
    turn.state.slots["line"] = line_id
    counts = tuple(Button(str(n), actions.encode("retqty", line_id, n))
                   for n in range(1, min(left, MAX_CHOICES) + 1))
    return [Reply(_("How many {name} would you like to return? (1 to {most}; you can type "
                    "the number)", name=line.name, most=left), buttons=(counts, _stop_row()))]


async def _set_units(turn: Turn, order: Order, line_id: int, units: int) -> list[Reply]:
    try:
        await returns.check_units(session=turn.session, order=order, quantities={line_id: units})
    except DomainError as refused:
        return [Reply(refused.message)] + await _lines(turn, order)
    turn.state.slots.setdefault("units", {})[str(line_id)] = units
    turn.state.slots.pop("line", None)
    return await _lines(turn, order)


@router.action("retqty")
async def choose_units(turn: Turn) -> list[Reply]:
    order = await _order(turn)
    if order is None or turn.action is None:
        return await start(turn)
    line_id, units = turn.action.args
    return await _set_units(turn, order, line_id, units)


@router.action("retnext")
async def ask_reason(turn: Turn) -> list[Reply]:
    order = await _order(turn)
    if order is None:
        return await start(turn)
    if not _units(turn):
        return await _lines(turn, order)
    turn.state.step = "reason"
    rows = tuple((Button(text, actions.encode("retwhy", n)),)
                 for n, (_code, text) in enumerate(_reasons()))
    return [Reply(_("Why are you returning them?"), buttons=(*rows, _stop_row()))]


@router.action("retwhy")
async def choose_reason(turn: Turn) -> list[Reply]:
    order = await _order(turn)
    if order is None or turn.action is None or not _units(turn):
        return await start(turn)
    (index,) = turn.action.args
    if index >= len(_reasons()):
        return await ask_reason(turn)
    turn.state.slots["reason"] = _reasons()[index][0].value
    turn.state.step = "details"
    return [Reply(_("Tell us in a few words what happened, or tap Skip."),
                  buttons=((Button(_("Skip"), "retskip"),), _stop_row()))]


@router.action("retskip")
async def skip_details(turn: Turn) -> list[Reply]:
    return await _submit(turn, "")


async def _submit(turn: Turn, details: str) -> list[Reply]:
    order = await _order(turn)
    slots = turn.state.slots
    if order is None or "reason" not in slots or not _units(turn):
        return await start(turn)
    try:
        ret = await returns.request(
            session=turn.session, order=order, quantities=_units(turn), reason=slots["reason"],
            details=details, chat_key=turn.msg.chat.session_key, actor=turn.actor,
            vault=turn.shop.vault, window_days=turn.shop.settings.return_window_days)
    except DomainError as refused:
        if refused.code is ReturnError.REASON_INVALID:  # too many words: say it shorter
            return [Reply(refused.message, buttons=((Button(_("Skip"), "retskip"),),
                                                    _stop_row()))]
        turn.state.finish()
        return [replies.menu(refused.message)]
    turn.state.start(FLOW, "photos")
    turn.state.slots["return_id"] = ret.id
    turn.state.slots["number"] = ret.number
    return [Reply(_("Thank you: return {number} for order {order} is requested. Our team will "
                    "answer here.\nIf you have photos of the items, send up to {count} now, "
                    "then tap Done.", number=ret.number, order=order.number,
                    count=photos.MAX_PHOTOS),
                  buttons=((Button(_("Done"), "retdone"), Button(_("My returns"), "returns")),))]


@router.action("retphoto")
async def photo(turn: Turn) -> list[Reply]:
    """A photo from the channel (Telegram, Slack, the web chat's upload)."""
    slots = turn.state.slots
    if turn.state.flow != FLOW or turn.state.step != "photos" or "return_id" not in slots:
        return [replies.menu(_("I can take photos while you ask for a return. To start one, "
                               "say \"I want to return an item\"."))]
    done_row = (Button(_("Done"), "retdone"),)
    if not turn.msg.files:
        return [Reply(_("Please send the photo as a picture."), buttons=(done_row,))]
    added = 0
    storage = photos.storage(turn.shop.settings)
    for upload in turn.msg.files:
        try:
            if upload.too_large:
                return [Reply(_("That photo is larger than {size} MB. Please send a smaller "
                                "one.", size=8), buttons=(done_row,))]
            image = await asyncio.to_thread(check_image, upload.data)
            await returns.add_photo(session=turn.session, return_id=slots["return_id"],
                                    image=image, storage=storage, actor=turn.actor)
            added += 1
        except DomainError as refused:
            return [Reply(refused.message, buttons=(done_row,))]
    ret = await returns.get(session=turn.session, return_id=slots["return_id"])
    return [Reply(_("Photo added to return {number} ({count} of {most}). Send another, or tap "
                    "Done.", number=ret.number, count=len(ret.photos), most=photos.MAX_PHOTOS),
                  buttons=(done_row,))]


@router.action("retdone")
async def done(turn: Turn) -> list[Reply]:
    number = turn.state.slots.get("number") if turn.state.flow == FLOW else None
    turn.state.finish()
    if not number:
        return [replies.menu()]
    return [replies.menu(_("Thanks! We'll tell you here as soon as our team has looked at "
                           "return {number}.", number=number))]


@router.action("retstop")
async def stop(turn: Turn) -> list[Reply]:
    asked = turn.state.flow == FLOW and "return_id" in turn.state.slots
    turn.state.finish()
    if asked:
        return await done(turn)
    return [replies.menu(_("No return was asked for. Here is the menu."))]


@router.flow(FLOW)
async def answer(turn: Turn) -> list[Reply] | None:
    """Typed text during the dialog: an order number, a number of units, the details."""
    text = turn.msg.text.strip()
    if text.lower().strip(".! ") in CANCEL_WORDS:
        return await stop(turn)
    step = turn.state.step
    if step == "order" and parse_number(text):
        return await _pick(turn, text)
    if step == "qty" and text.isdecimal() and len(text) < 6:
        order = await _order(turn)
        line_id = turn.state.slots.get("line")
        if order is not None and isinstance(line_id, int):
            return await _set_units(turn, order, line_id, int(text))
    if step == "details":
        return await _submit(turn, text)
    return None
