"""The shopper's side of nudges: "Tell me when it's back" on a sold-out card, and the yes
or no to a reminder of a cart left behind (asked on the cart until answered)."""

from __future__ import annotations

from dataclasses import replace

from bot import actions, replies
from bot.messages import Button, Reply
from bot.router import Router
from bot.turn import Turn
from core.carts.totals import CartView
from core.catalog import service as catalog
from core.errors import NotFound
from core.i18n import _
from core.inventory import service as inventory
from core.notifications import holders, preferences
from core.notifications.events import Channel
from core.notifications.kinds import Category
from core.nudges import back_in_stock
from core.nudges.cart_reminders import channel_for

router = Router()


def _holder(turn: Turn) -> str:
    """The chat's holder, the one its /settings show (core.notifications.holders)."""
    return holders.of_chat_key(turn.shop.vault, user_id=turn.user_id,
                               chat_key=turn.msg.chat.session_key)


@router.action("bis")
async def tell_me_when_back(turn: Turn) -> list[Reply]:
    assert turn.action is not None
    try:
        product = await catalog.get_product(session=turn.session,
                                            product_id=turn.action.args[0])
    except NotFound:
        return [replies.menu(_("That product is no longer available."))]
    if not product.is_active:
        return [replies.menu(_("Sorry, {name} is no longer sold.", name=product.name))]
    stock = await inventory.get(session=turn.session, product_id=product.id)
    if stock.available > 0:
        return [Reply(_("Good news: {name} is in stock right now.", name=product.name),
                      buttons=((Button(_("Add to cart"), actions.encode("add", product.id, 1)),),
                               replies.MENU_ROW))]
    new = await back_in_stock.subscribe(
        session=turn.session, product_id=product.id, holder=_holder(turn),
        chat_key=turn.msg.chat.session_key, user_id=turn.user_id, actor=turn.actor)
    text = (_("I'll tell you here as soon as {name} is back in stock.", name=product.name)
            if new else _("You're already on the list: I'll tell you once {name} is back in "
                          "stock.", name=product.name))
    return [replies.menu(text)]


async def with_reminder_offer(turn: Turn, reply: Reply, view: CartView) -> Reply:
    """The cart, with the offer to remind of it once: shown the first time a chat sees a
    cart with items, while the shopper has not decided and reminders are on in this shop."""
    if view.is_empty or turn.state.reminder_offered or not turn.shop.settings.cart_reminder_hours:
        return reply
    key = preferences.choice_key(Category.CART_REMINDERS, channel_for(turn.user_id))
    choices = await preferences.choices_of(session=turn.session, holder=_holder(turn))
    if key in choices.picked:
        return reply
    turn.state.reminder_offered = True
    offer = (Button(_("Remind me if I leave items in my cart"), actions.encode("remind", 1)),)
    return replace(reply, buttons=reply.buttons + (offer,))


@router.action("remind")
async def remind_answer(turn: Turn) -> list[Reply]:
    assert turn.action is not None
    on = turn.action.args[0] == 1
    channel = channel_for(turn.user_id)
    hours = turn.shop.settings.cart_reminder_hours
    if not hours:   # a stale button from before the shop turned reminders off
        return [replies.menu(_("This shop doesn't send cart reminders."))]
    await preferences.set_choice(session=turn.session, holder=_holder(turn),
                                 category=Category.CART_REMINDERS, channel=channel, on=on,
                                 actor=turn.actor)
    if not on:
        return [replies.menu(_("All right, no cart reminders."))]
    if channel is Channel.EMAIL:
        return [replies.menu(_("Done: if you leave items in your cart for {hours} hours, I'll "
                               "send you one reminder by email.", hours=hours))]
    return [replies.menu(_("Done: if you leave items in your cart for {hours} hours, I'll "
                           "remind you here once.", hours=hours))]
