"""The neutral message types at the channel boundary.

Channel adapters turn a platform event into an `Incoming` and render `Reply`s back;
nothing past the adapter knows which platform a chat is on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.catalog.images import MAX_BYTES as MAX_IMAGE_BYTES

ACTION_BYTES = 64  # Telegram's callback_data limit; Slack's action values allow more


class Kind(StrEnum):
    TEXT = "text"
    ACTION = "action"      # a button press, carrying an action id
    COMMAND = "command"    # /start, /help ... (text without the slash in `text`)


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where a message came from: one person in one chat on one platform."""

    platform: str
    chat_id: str
    user_id: str
    display_name: str = ""

    @property
    def session_key(self) -> str:
        return f"{self.platform}:{self.chat_id}"


@dataclass(frozen=True, slots=True)
class Delivery:
    """Which platform delivery carried a message, so a redelivered copy is handled once."""

    source: str      # "telegram:<bot id>", "slack:<team id>"
    event_id: str    # update_id, event_id, ...


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the shopper sent (a photo), read by the channel within `MAX_UPLOAD` bytes;
    `too_large` when the platform said it was bigger and it was not fetched."""

    data: bytes
    too_large: bool = False


MAX_UPLOAD = MAX_IMAGE_BYTES  # what core's check_image takes: a channel fetches no more


@dataclass(frozen=True, slots=True)
class Incoming:
    chat: ChatRef
    kind: Kind
    text: str = ""
    action: str = ""
    delivery: Delivery | None = None
    # Files that came with the message; the channel hands them in as the action
    # `retphoto` (bot/dialogs/returns.py), so a photo needs no text to be understood.
    files: tuple[Upload, ...] = ()


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: str

    def __post_init__(self) -> None:
        if len(self.action.encode()) > ACTION_BYTES:
            raise ValueError(f"action id over {ACTION_BYTES} bytes: {self.action!r}")


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str
    is_payment: bool = False


@dataclass(frozen=True, slots=True)
class ProductCard:
    product_id: int
    name: str
    price: str
    stock: str
    description: str = ""
    image_url: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send. Buttons come in rows; a card renders as a photo with caption."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    image: str | None = None
    links: tuple[Link, ...] = ()
    card: ProductCard | None = None
    edit: bool = False  # replace the message the button was on, where the platform can
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Reply:
        """A message the shop queued (core.outbox's payload: text, button rows, links)."""
        rows = tuple(tuple(Button(b["label"], b["action"]) for b in row)
                     for row in payload.get("buttons", []))
        links = tuple(Link(link["label"], link["url"]) for link in payload.get("links", []))
        return cls(str(payload.get("text", "")), buttons=rows, links=links)

    def to_json(self) -> dict[str, object]:
        """The web chat API's shape (DESIGN.md)."""
        image = self.image or (self.card.image_url if self.card else None)
        return {
            "text": self.text,
            "buttons": [{"label": b.label, "action": b.action} for row in self.buttons
                        for b in row],
            "image": image,
            "links": [{"label": link.label, "url": link.url} for link in self.links],
        }
