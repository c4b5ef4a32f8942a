"""Greeting, help, the menu, goodbye, and what to say when the bot did not understand."""

from __future__ import annotations

from bot import replies
from bot.messages import Button, Reply
from bot.router import Router
from bot.turn import Turn
from core.i18n import _

router = Router()
OFFER_PERSON_AFTER = 3   # misunderstood messages in a row before the bot offers a person

EXAMPLES = ("Try: “show me mugs”, “blue mug under 15”, “add two of the second one”, "
            "“make it 3”, “what's in my cart”, “where is my order CC-7KX3MQ”.")


@router.intent("greet")
async def greet(turn: Turn) -> list[Reply]:
    name = turn.msg.chat.display_name.split(" ")[0] if turn.msg.chat.display_name else ""
    hello = f"Hi {name}!" if name else "Hi!"
    return [replies.menu(f"{hello} Welcome to the shop. You can browse, search in your own "
                         f"words, and fill a cart right here.\n{EXAMPLES}")]


@router.intent("help")
async def help_(turn: Turn) -> list[Reply]:
    return [replies.menu(f"I can show the catalog, find products, keep your cart, and look "
                         f"up your orders.\n{EXAMPLES}")]


@router.action("menu", "help")
async def show_menu(turn: Turn) -> list[Reply]:
    turn.state.finish()
    return [replies.menu()]


@router.intent("goodbye")
async def goodbye(turn: Turn) -> list[Reply]:
    return [Reply("Bye for now! Your cart is kept for when you come back.",
                  buttons=((Button("Menu", "menu"),),))]


@router.intent("affirm", "deny")
async def yes_or_no(turn: Turn) -> list[Reply]:
    return [replies.menu("Okay! What would you like to do next?")]


@router.intent("nlu_fallback")
async def not_understood(turn: Turn) -> list[Reply]:
    turn.state.misunderstood += 1
    if turn.state.misunderstood >= OFFER_PERSON_AFTER:
        turn.state.misunderstood = 0
        return [Reply(_("Sorry, I keep misunderstanding you. Would you like to talk to a "
                        "person from our team?"),
                      buttons=((Button(_("Talk to a person"), "human"),
                                Button(_("Menu"), "menu")),))]
    understood = turn.understood
    if understood and understood.intent and understood.confidence > 0.2:
        guess = understood.intent.replace("_", " ")
        return [replies.menu(f"I'm not sure I understood — did you want to {guess}? "
                             f"You can also pick from the menu.\n{EXAMPLES}")]
    return [replies.menu(f"Sorry, I didn't understand that.\n{EXAMPLES}")]
