"""Neutral replies as Telegram messages: HTML-escaped text within Telegram's limits,
inline keyboards for buttons, photos with captions for product cards.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.text import is_public_url, split_text
from bot.messages import Button, Link, Reply

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
LABEL_LIMIT = 64


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Bot API message: `text` is HTML; with `photo` it is the caption."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    photo: str | None = None
    edit: bool = False   # may replace the message whose button was pressed


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    return _keyboard(reply.buttons, reply.links)


@functools.lru_cache(maxsize=512)
def _keyboard(buttons: tuple[tuple[Button, ...], ...],
              links: tuple[Link, ...]) -> InlineKeyboardMarkup | None:
    """Built once per set of buttons (the menu, a category's list, a page of results
    recur for every shopper): a button is a pydantic model, checked as it is made. The
    models are never changed once made."""
    rows = [[InlineKeyboardButton(text=b.label[:LABEL_LIMIT], callback_data=b.action)
             for b in row] for row in buttons if row]
    rows += [[InlineKeyboardButton(text=link.label[:LABEL_LIMIT], url=link.url)]
             for link in links if is_public_url(link.url)]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _plain_text(reply: Reply) -> str:
    """The text, with links Telegram would refuse as buttons (loopback hosts) written out."""
    local = [f"{link.label}: {link.url}" for link in reply.links if not is_public_url(link.url)]
    return "\n".join([reply.text, *local]) if local else reply.text


def render(reply: Reply) -> list[Outgoing]:
    text = _plain_text(reply) or " "
    markup = keyboard(reply)
    photo = reply.image or (reply.card.image_url if reply.card else None)
    if photo:
        if len(text) <= CAPTION_LIMIT:
            return [Outgoing(html.escape(text, quote=False), markup, photo)]
        title = text.split("\n", 1)[0][:CAPTION_LIMIT]
        head = [Outgoing(html.escape(title, quote=False), None, photo)]
        return head + _texts(text, markup, edit=False)
    return _texts(text, markup, edit=reply.edit)


def _texts(text: str, markup: InlineKeyboardMarkup | None, edit: bool) -> list[Outgoing]:
    chunks = split_text(text, TEXT_LIMIT)
    last = len(chunks) - 1
    return [Outgoing(html.escape(chunk, quote=False), markup if n == last else None,
                     edit=edit and last == 0) for n, chunk in enumerate(chunks)]
