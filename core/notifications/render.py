"""Turning an event into words per channel, from one Jinja2 template per event kind.

`templates/<kind>.jinja` holds a block per part: `subject`, `text` and `html` (email),
`chat`, `sms`. A kind without a block is not sent on that channel. Every sentence in a
template goes through `_` (core.i18n) whole, with named placeholders, in the recipient's
language; the HTML block escapes what it quotes (`{% autoescape true %}`), the others are
plain text. `_layout.html` wraps every mail's HTML; order mail ends with a footer, and
every mail with a link to the reader's choices, put in when it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from core.i18n import _
from core.notifications import sms as sms_text

TEMPLATES = Path(__file__).parent / "templates"
PARTS = ("subject", "text", "html", "chat", "sms")
# Where the sender puts the signed link to the reader's choices (`with_preferences_link`):
# the link is made per recipient when the mail goes, so it is not in the sealed mail.
PREFERENCES_SLOT = "<!-- chatcart:preferences -->"


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    chat: str | None = None
    sms: str | None = None


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       lstrip_blocks=True)


def render(kind: str, context: dict[str, Any], locale: str | None = None) -> Rendered:
    """Every part `kind`'s template has, for a reader of `locale`."""
    env = _environment()
    template = env.get_template(f"{kind}.jinja")
    values = {**context, "_": partial(_, locale=locale)}
    context_ = template.new_context(values)
    for _output in template.root_render_func(context_):  # defines the template's macros
        pass
    parts: dict[str, str] = {}
    for name in PARTS:
        block = template.blocks.get(name)
        if block is not None:
            parts[name] = "".join(block(context_)).strip()
    footer = (_("This message is about your order with us.", locale=locale)
              if kind.startswith("order_") else "")
    if "html" in parts:
        parts["html"] = env.get_template("_layout.html").render(
            {**values, "title": parts.get("subject", ""), "body": Markup(parts["html"]),
             "footer": footer, "preferences_slot": Markup(PREFERENCES_SLOT)})
    if "text" in parts and footer:
        parts["text"] += "\n\n-- \n" + footer
    if "sms" in parts:
        parts["sms"] = sms_text.fit(parts["sms"])
    if "subject" in parts:
        parts["subject"] = " ".join(parts["subject"].split())
    return Rendered(**parts)


def with_preferences_link(text: str, html: str | None, url: str,
                          locale: str | None = None) -> tuple[str, str | None]:
    """The mail's text and HTML with a footer linking to the page of the reader's choices."""
    line = _("Choose what we send you, and how: {url}", url=url, locale=locale)
    text = f"{text}\n\n{line}" if "\n-- \n" in text else f"{text}\n\n-- \n{line}"
    if html is not None:
        paragraph = _environment().from_string(
            '<p style="color: #777; font-size: 12px;"><a href="{{ url }}">{{ label }}</a></p>'
        ).render(url=url, label=_("Choose what we send you, and how", locale=locale))
        html = (html.replace(PREFERENCES_SLOT, paragraph, 1) if PREFERENCES_SLOT in html
                else html.replace("</body>", paragraph + "\n</body>", 1))
    return text, html
