"""Neutral replies as Block Kit within Slack's limits: mrkdwn sections (escaped), an image
where Slack can fetch it, buttons in actions blocks, links as URL buttons.

A text longer than one message may hold (an agent's long answer) becomes several
messages: each section at most 3,000 characters, each message at most `MESSAGE_SECTIONS`
of them (under Slack's 40,000 characters and 50 blocks), the picture on the first and
the buttons on the last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.channels.text import is_public_url, split_escaped
from bot.messages import Reply

SECTION_LIMIT = 3000
FALLBACK_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75
ELEMENTS_PER_ACTIONS = 25
BLOCK_LIMIT = 50
MESSAGE_LIMIT = 40_000  # a message's characters, all its blocks together
MESSAGE_SECTIONS = MESSAGE_LIMIT // SECTION_LIMIT - 1  # 12: room left for the buttons
LINK_PREFIX = "link:"  # action_id of a URL button: Slack reports the click, nothing to do


@dataclass(frozen=True, slots=True)
class SlackMessage:
    text: str                      # notification fallback, escaped as the blocks are
    blocks: list[dict[str, Any]]
    edit: bool = False

    def without_images(self) -> SlackMessage:
        blocks = [{k: v for k, v in block.items() if k != "accessory"}
                  for block in self.blocks if block.get("type") != "image"]
        return SlackMessage(self.text, blocks, self.edit)


def escape(text: str) -> str:
    """Slack's three control characters; everything else is shown as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(reply: Reply) -> list[SlackMessage]:
    """One message, or several when the text is longer than one may hold."""
    sections: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk or " ", "verbatim": True}}
        for chunk in split_escaped(reply.text or " ", SECTION_LIMIT, escape)]
    groups = [sections[n:n + MESSAGE_SECTIONS]
              for n in range(0, len(sections), MESSAGE_SECTIONS)]
    image = reply.image or (reply.card.image_url if reply.card else None)
    if image and is_public_url(image):
        alt = reply.card.name if reply.card else "picture"
        groups[0][0]["accessory"] = {"type": "image", "image_url": image,
                                     "alt_text": alt[:2000]}
    groups[-1] = groups[-1] + _actions(reply)
    if len(groups) == 1:
        return [SlackMessage(escape(reply.text[:FALLBACK_LIMIT]) or " ", groups[0],
                             reply.edit)]
    return [SlackMessage(_fallback(blocks), blocks) for blocks in groups]


def _fallback(blocks: list[dict[str, Any]]) -> str:
    """A piece's notification text: the start of its own prose, escaped like it (Slack
    shows `&lt;` as `<`, and a shopper's `<!channel>` must not notify anyone)."""
    first = next(b for b in blocks if b["type"] == "section")["text"]["text"]
    return str(first)[:FALLBACK_LIMIT] or " "


def _actions(reply: Reply) -> list[dict[str, Any]]:
    """The reply's buttons and links as actions blocks (at most 25 elements each)."""
    blocks: list[dict[str, Any]] = []
    number = 0
    for row in reply.buttons:
        elements = []
        for button in row[:ELEMENTS_PER_ACTIONS]:
            number += 1
            elements.append({"type": "button", "action_id": f"cc{number}", "value": button.action,
                             "text": {"type": "plain_text", "emoji": True,
                                      "text": button.label[:BUTTON_TEXT_LIMIT]}})
        if elements:
            blocks.append({"type": "actions", "elements": elements})
    links = [{"type": "button", "action_id": f"{LINK_PREFIX}{n}", "url": link.url,
              "text": {"type": "plain_text", "text": link.label[:BUTTON_TEXT_LIMIT]},
              **({"style": "primary"} if link.is_payment else {})}
             for n, link in enumerate(reply.links[:ELEMENTS_PER_ACTIONS], start=1)]
    if links:
        blocks.append({"type": "actions", "elements": links})
    return blocks[:BLOCK_LIMIT - MESSAGE_SECTIONS]
