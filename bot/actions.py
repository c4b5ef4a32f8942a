"""Compact button action ids: `verb` or `verb:arg:arg`, always under 64 bytes.

Buttons carry ids, never objects: a press re-reads the shop, so a stale button meets
today's stock and prices (or a clear "no longer available").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.messages import ACTION_BYTES

# verb -> how many integer arguments it takes
VERBS: dict[str, int] = {
    "menu": 0, "help": 0, "cats": 0, "cart": 0, "orders": 0, "human": 0, "checkout": 0,
    "faq": 0, "clear": 0, "account": 0, "link": 0, "unlink": 0,
    "newmail": 0,  # change the email address of the account this chat is linked to
    "cat": 2,      # category id, page
    "more": 1,     # next/previous page of the last search
    "prod": 1,     # product card
    "add": 2,      # product id, quantity
    "qty": 2,      # product id, new quantity (0 removes)
    "rm": 1,       # product id
    "ord": 0,      # order number follows as text: ord:CC-7KX3MQ
    "repay": 0,    # a new payment link for an unpaid order: repay:CC-7KX3MQ
    "pick": 1,     # answer to "which one?": product id
    "bis": 1,      # "Tell me when it's back": product id
    "remind": 1,   # cart reminders: yes (1) or no (0)
    # checkout
    "coaddr": 1,   # ship to a saved address (its id; 0: a new one)
    "cobill": 1,   # billing the same as shipping (1) or another (0)
    "coship": 1,   # shipping method, by its place in the list
    "coedit": 1,   # change the address (0) or the shipping method (1)
    "copay": 2,    # gateway (place in the list), the total the shopper saw (minor units)
    "cocancel": 0,
    # live support
    "tobot": 0,    # leave the queue / the person: back to the bot
    "rate": 2,     # handoff id, rating 1..5
    "ratenc": 1,   # handoff id: no comment on the rating
    # returns (bot/dialogs/returns.py); retord:CC-7KX3MQ picks the order
    "returns": 0,  # start a return, and the shopper's returns so far
    "retline": 1,  # an order line to return units of
    "retqty": 2,   # order line id, units
    "retnext": 0,  # the units are chosen: on to the reason
    "retwhy": 1,   # the reason, by its place in the list
    "retskip": 0,  # no words to add
    "retphoto": 0,  # a photo arrived (the channel sends it so, with the file)
    "retdone": 0,  # no more photos
    "retstop": 0,  # leave the return dialog
    # notification settings (bot/handlers/notifications.py, bot/dialogs/sms_consent.py)
    "nset": 0,     # show them
    "npref": 3,    # category mask, channel mask, on (1) or off (0)
    "nquiet": 1,   # quiet hours preset, by its place in the list
    "nsms": 0,     # agree to order updates by SMS: which number?
    "nsmsuse": 0,  # the number of the latest order
    "nsmsok": 0,   # yes, to the number just asked about
    "nsmsoff": 0,  # withdraw the SMS consent
}
# Verbs whose argument is an order number: its status, paying again, returning from it,
# cancelling it once the shopper confirmed.
_ORDER = re.compile(r"^(ord|repay|retord|cancelok):(CC-[2-9A-HJKMNP-TV-Z]{6})$")


@dataclass(frozen=True, slots=True)
class Action:
    verb: str
    args: tuple[int, ...] = ()
    order_number: str | None = None

    def encode(self) -> str:
        if self.order_number:
            return f"{self.verb}:{self.order_number}"
        return ":".join([self.verb, *map(str, self.args)])


def encode(verb: str, *args: int) -> str:
    text = Action(verb, tuple(args)).encode()
    assert len(text.encode()) <= ACTION_BYTES
    return text


def order(number: str) -> str:
    return f"ord:{number}"


def decode(text: str) -> Action | None:
    """The action for an id, or None for anything we never issued (treated as unknown)."""
    if not text or len(text.encode()) > ACTION_BYTES:
        return None
    if match := _ORDER.match(text):
        return Action(match.group(1), order_number=match.group(2))
    verb, *raw = text.split(":")
    if VERBS.get(verb) != len(raw) or verb in ("ord", "repay", "retord", "cancelok"):
        return None
    try:
        args = tuple(int(part) for part in raw)
    except ValueError:
        return None
    if any(arg < 0 or arg > 10**9 for arg in args):
        return None
    return Action(verb, args)
