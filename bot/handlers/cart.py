"""Cart changes by button and by text; every change answers with the new total."""

from __future__ import annotations

from bot import replies
from bot.dialogs import references
from bot.handlers.catalog import show_product, which_one
from bot.handlers.nudges import with_reminder_offer
from bot.messages import Reply
from bot.router import Router
from bot.turn import Turn
from core.carts import service as carts
from core.carts.totals import CartView
from core.catalog import service as catalog
from core.catalog.models import Product

router = Router()


def _quantity(turn: Turn, reference: references.Reference) -> int | None:
    """The quantity said in the text, ignoring a number that picked from the list."""
    if turn.understood is None:
        return None
    for entity in turn.understood.values("quantity"):
        span = reference.ordinal_span
        start, end = int(entity.get("start", -1)), int(entity.get("end", -1))
        if span and start < span[1] and end > span[0]:
            continue
        try:
            return int(str(entity["value"]))
        except ValueError:
            continue
    return None


async def _name(turn: Turn, product_id: int) -> str:
    product = await turn.session.get(Product, product_id)
    return product.name if product else "that item"


async def add(turn: Turn, product_id: int, quantity: int) -> list[Reply]:
    cart = await turn.cart()
    view = await carts.add_item(session=turn.session, cart=cart, product_id=product_id,
                                quantity=quantity, actor=turn.actor)
    turn.state.focus = product_id
    turn.state.slots = {}
    line = view.line(product_id)
    name = line.name if line else await _name(turn, product_id)
    return [await with_reminder_offer(turn, replies.cart(view, note=f"Added {quantity} × {name}."),
                                      view)]


async def set_quantity(turn: Turn, product_id: int, quantity: int) -> list[Reply]:
    cart = await turn.cart()
    gone = await _name(turn, product_id) if not quantity else ""  # no line to name it after
    view = await carts.set_quantity(session=turn.session, cart=cart, product_id=product_id,
                                    quantity=quantity, actor=turn.actor)
    line = view.line(product_id)
    name = line.name if line else gone or await _name(turn, product_id)
    turn.state.focus = product_id if quantity else None
    turn.state.slots = {}
    note = f"{name}: now {quantity}." if quantity else f"Removed {name}."
    return [replies.cart(view, note=note)]


@router.action("add")
async def add_button(turn: Turn) -> list[Reply]:
    assert turn.action is not None
    product_id, quantity = turn.action.args
    return await add(turn, product_id, quantity)


@router.action("qty")
async def quantity_button(turn: Turn) -> list[Reply]:
    assert turn.action is not None
    product_id, quantity = turn.action.args
    return await set_quantity(turn, product_id, quantity)


@router.action("rm")
async def remove_button(turn: Turn) -> list[Reply]:
    assert turn.action is not None
    return await set_quantity(turn, turn.action.args[0], 0)


@router.action("pick")
async def picked(turn: Turn) -> list[Reply]:
    """The answer to "which one?": do what was pending with the chosen product."""
    assert turn.action is not None
    product_id = turn.action.args[0]
    pending = turn.state.slots.get("pending")
    quantity = turn.state.slots.get("quantity")
    if pending == "add":
        return await add(turn, product_id, quantity or 1)
    if pending == "qty" and quantity is not None:
        return await set_quantity(turn, product_id, quantity)
    if pending == "rm":
        return await set_quantity(turn, product_id, 0)
    return await show_product(turn, await catalog.get_product(session=turn.session,
                                                              product_id=product_id))


def _in_cart(view: CartView, reference: references.Reference) -> list[int]:
    """Narrow what the shopper named to what is in the cart ("remove the lamp")."""
    ids = [pid for pid in reference.product_ids if view.line(pid) is not None]
    return ids or reference.product_ids


@router.intent("add_to_cart")
async def add_by_text(turn: Turn) -> list[Reply]:
    reference = references.resolve(turn)
    quantity = _quantity(turn, reference) or 1
    if reference.resolved is not None:
        return await add(turn, reference.resolved, quantity)
    if reference.product_ids:
        return [await which_one(turn, reference.product_ids, "add", quantity)]
    if turn.state.focus is not None:
        return await add(turn, turn.state.focus, quantity)
    return [replies.menu("What would you like to add? Search for it or browse the shop.")]


async def _cart_target(turn: Turn, pending: str,
                       quantity: int | None) -> tuple[int | None, list[Reply]]:
    """The cart line meant: named, listed, "it", or the only line there is."""
    view = await carts.view(session=turn.session, cart=await turn.cart())
    if view.is_empty:
        return None, [replies.cart(view)]
    reference = references.resolve(turn)
    candidates = _in_cart(view, reference)
    if len(candidates) == 1:
        return candidates[0], []
    if len(candidates) > 1:
        return None, [await which_one(turn, candidates, pending, quantity)]
    if turn.state.focus is not None and view.line(turn.state.focus):
        return turn.state.focus, []
    if len(view.lines) == 1:
        return view.lines[0].product_id, []
    return None, [replies.cart(view, note="Which item do you mean?")]


@router.intent("update_cart_quantity")
async def update_by_text(turn: Turn) -> list[Reply]:
    quantity = _quantity(turn, references.resolve(turn))
    if quantity is None:
        return [Reply("How many would you like? For example: “make it 3”.",
                      buttons=(replies.MENU_ROW,))]
    product_id, asked = await _cart_target(turn, "qty", quantity)
    return asked if product_id is None else await set_quantity(turn, product_id, quantity)


@router.intent("remove_from_cart")
async def remove_by_text(turn: Turn) -> list[Reply]:
    product_id, asked = await _cart_target(turn, "rm", None)
    return asked if product_id is None else await set_quantity(turn, product_id, 0)


@router.action("cart")
@router.intent("view_cart")
async def view_cart(turn: Turn) -> list[Reply]:
    view = await carts.view(session=turn.session, cart=await turn.cart())
    return [await with_reminder_offer(turn, replies.cart(view), view)]
