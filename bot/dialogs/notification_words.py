"""Typed notification changes ("turn off email notifications", "stop emails", "turn email
back on", "no more marketing", "time zone Europe/Berlin") read into a change the chat can
make at once, with an undo. Anything less clear than a direction plus a channel or a
category is left to the settings and their buttons: a wrong guess here would silence a
shopper's order news.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.notifications.events import Channel
from core.notifications.kinds import OPT_IN, Category
from core.notifications.settings import SWITCHABLE

CHANNEL_WORDS = {
    Channel.EMAIL: ("email", "e-mail", "mail", "newsletter"),
    Channel.SMS: ("sms", "text message", "texts", "texting", "text me", "by text"),
    Channel.CHAT: ("chat", "telegram", "slack", "in here"),
}
CATEGORY_WORDS = {
    Category.ORDERS: ("order", "shipping", "delivery", "deliveries", "parcel"),
    Category.MARKETING: ("marketing", "newsletter", "promo", "offers", "deals", "news and",
                         "advert"),
    Category.BACK_IN_STOCK: ("back in stock", "restock", "in stock"),
    Category.CART_REMINDERS: ("cart reminder", "basket reminder", "cart remind",
                              "abandoned cart"),
}
OFF_WORDS = ("turn off", "switch off", "turn them off", "stop", "no more", "unsubscribe",
             "disable", "don't", "do not", "dont", "mute", "opt out", "opt me out",
             "no emails", "no sms", "no texts")
ON_WORDS = ("turn on", "switch on", "back on", "start", "resubscribe", "enable", "opt in",
            "opt me in", "sign me up", "again", "subscribe me")
ZONE = re.compile(r"^(?:(?:my\s+)?time\s*zone(?:\s+is)?\s*:?\s*)?([A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+"
                  r"|UTC)\s*\.?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Change:
    categories: tuple[Category, ...]
    channels: tuple[Channel, ...]
    on: bool


def _found(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![a-z]){re.escape(word)}", text) for word in words)


def change_in(text: str) -> Change | None:
    """The change a sentence asks for, or None when it is not clear enough to make."""
    said = " ".join(text.lower().replace("’", "'").split())[:300]
    off = _found(said, OFF_WORDS) and not _found(said, ("turn on", "back on", "switch on"))
    on = _found(said, ON_WORDS) and not _found(said, ("turn off", "switch off"))
    if off == on:
        return None
    channels = tuple(c for c, words in CHANNEL_WORDS.items() if _found(said, words))
    categories = tuple(c for c, words in CATEGORY_WORDS.items() if _found(said, words))
    if "newsletter" in said and Category.MARKETING in categories:
        channels = channels or (Channel.EMAIL,)
    if not channels and not categories:
        return None
    if not categories:  # a whole channel: off is everything; on is what is on by default
        categories = SWITCHABLE if off else tuple(c for c in SWITCHABLE if c not in OPT_IN)
    return Change(categories, channels, on)


def zone_in(text: str) -> str | None:
    """An IANA zone name typed as "time zone Europe/Berlin" (or the name alone)."""
    match = ZONE.match(text.strip()[:80])
    return match.group(1) if match else None


def wants_sms(text: str) -> bool:
    """"Text me order updates", "I want sms notifications": asking for texts, not stopping."""
    said = " ".join(text.lower().replace("’", "'").split())[:300]
    return _found(said, CHANNEL_WORDS[Channel.SMS]) and not _found(said, OFF_WORDS)
