"""Checkout's first step. Shipping, billing and payment come with the checkout dialog."""

from __future__ import annotations

from bot import replies
from bot.messages import Button, Reply
from bot.router import Router
from bot.turn import Turn
from core.carts import service as carts

router = Router()


@router.action("checkout")
@router.intent("checkout")
async def checkout(turn: Turn) -> list[Reply]:
    view = await carts.view(session=turn.session, cart=await turn.cart())
    if view.is_empty:
        return [replies.cart(view)]
    if view.problems:
        return [replies.cart(view, note="Before checking out, please fix these.")]
    total = replies.money(view.subtotal.amount, view.currency)
    return [Reply(f"Ready to check out {view.item_count} item(s) for {total}. "
                  "Next come your shipping address, billing details and a secure payment "
                  "link — online checkout is being switched on shortly. Your cart is saved "
                  "until then.", buttons=((Button("View cart", "cart"),
                                           Button("Talk to a person", "human")),))]
