"""The first post of a handoff in the Slack support channel, as Block Kit: who asks, on
which channel, their cart (money as the bot shows it), the last messages, where the
conversation stands, and the Take and Resolve buttons. Everything typed by a shopper is
escaped, and each section stays within Slack's 3,000 characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.channels.slack.render import SECTION_LIMIT, escape
from core.i18n import _

TAKE, RESOLVE = "desk:take", "desk:resolve"     # action ids of the post's buttons
STATUS_BLOCK, BUTTONS_BLOCK = "desk-status", "desk-buttons"
LAST_MESSAGES = 10
LINE_LIMIT = 280                                 # one quoted message, at most
PLATFORMS = {"web": "the web chat", "telegram": "Telegram", "slack": "a Slack direct message"}


@dataclass(frozen=True, slots=True)
class Said:
    """One earlier message, as the post quotes it."""
    author: str      # "Shopper", "Bot", an agent's name
    text: str


@dataclass(frozen=True, slots=True)
class Handoff:
    """What the post shows of one handoff (read by the desk from core)."""
    id: int
    name: str
    platform: str
    account_email: str | None
    reason: str
    cart_lines: list[str]      # "1 × Blue mug (€12.50) = €12.50", as the bot writes them
    cart_total: str | None     # "Total: €12.50 (1 item)"; None when the cart is empty
    said: list[Said]
    status: str                # "open", "taken", "closed"
    holder: str | None = None


def _section(text: str) -> dict[str, Any]:
    if len(text) > SECTION_LIMIT:
        text = text[:SECTION_LIMIT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def status_text(status: str, holder: str | None) -> str:
    if status == "taken":
        return _("With {agent}.", agent=holder or _("someone"))
    if status == "closed":
        return _("Resolved: the shopper is back with the bot.")
    return _("Waiting for a person: reply in this thread, or press Take.")


def status_blocks(status: str, holder: str | None) -> list[dict[str, Any]]:
    """The status line, and the buttons while there is still something to do."""
    blocks: list[dict[str, Any]] = [{
        "type": "context", "block_id": STATUS_BLOCK,
        "elements": [{"type": "mrkdwn", "text": escape(status_text(status, holder))}]}]
    if status != "closed":
        blocks.append({"type": "actions", "block_id": BUTTONS_BLOCK, "elements": [
            {"type": "button", "action_id": TAKE, "style": "primary",
             "text": {"type": "plain_text", "text": _("Take")}},
            {"type": "button", "action_id": RESOLVE,
             "text": {"type": "plain_text", "text": _("Resolve")}}]})
    return blocks


def with_status(blocks: list[dict[str, Any]], status: str,
                holder: str | None) -> list[dict[str, Any]]:
    """A post's blocks with its status line and buttons replaced (after a take, a resolve)."""
    kept = [block for block in blocks
            if block.get("block_id") not in (STATUS_BLOCK, BUTTONS_BLOCK)]
    return kept + status_blocks(status, holder)


def headline(handoff: Handoff) -> str:
    return _("{name} asks for a person on {platform} (conversation {number}).",
             name=handoff.name or _("A shopper"),
             platform=PLATFORMS.get(handoff.platform, handoff.platform), number=handoff.id)


def post_blocks(handoff: Handoff) -> list[dict[str, Any]]:
    who = f"*{escape(headline(handoff))}*"
    if handoff.account_email:
        who += "\n" + escape(_("Account: {email}", email=handoff.account_email))
    if handoff.reason:
        who += "\n" + escape(_("They wrote: {text}", text=handoff.reason[:LINE_LIMIT]))
    if handoff.cart_total:
        cart = "\n".join([escape(_("Cart:")), *(f"• {escape(line)}" for line in
                                                handoff.cart_lines[:20]),
                          escape(handoff.cart_total)])
    else:
        cart = escape(_("Cart: empty."))
    blocks = [_section(who), _section(cart)]
    if handoff.said:
        quoted = [f"> *{escape(said.author)}:* {escape(_one_line(said.text))}"
                  for said in handoff.said[-LAST_MESSAGES:]]
        blocks.append(_section("\n".join([escape(_("Last messages:")), *quoted])))
    return blocks + status_blocks(handoff.status, handoff.holder)


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= LINE_LIMIT else flat[:LINE_LIMIT - 1] + "…"
