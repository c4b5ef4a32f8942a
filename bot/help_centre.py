"""The help centre: `GET /help`, the shop's FAQ as a public page anyone can search.

Served here, beside the web chat, because shoppers read it: it only reads core/support.
Rendered on the server with no script at all (the site-wide CSP allows none inline), so
it works without JavaScript; every answer has an anchor (`/help#faq-12`) that the bot's
FAQ answers link to. The search (`?q=`) is the bot's (core/support/faq_search.py), so
the page finds what the chat would answer. Nothing is cached: a staff edit in the
console shows on the next request.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.i18n import _, language_of
from core.shop import Shop
from core.support import faq_search
from core.support import service as support
from core.support.models import FaqEntry

STATIC = Path(__file__).parent / "help_static"
_PAGES = Environment(loader=FileSystemLoader(STATIC), autoescape=select_autoescape(["html"]),
                     trim_blocks=True, lstrip_blocks=True)
HEADERS = {"Cache-Control": "no-cache"}


def anchor(entry_id: int) -> str:
    """The id of an entry's answer on the page: `/help#faq-12`."""
    return f"faq-{entry_id}"


def _query(raw: str | None) -> str:
    """What was searched for, as it can be shown: bounded, without control characters."""
    text = (raw or "")[:faq_search.MAX_QUERY]
    return "".join(c for c in text if unicodedata.category(c)[0] != "C" or c == " ").strip()


def _shown(entry: FaqEntry) -> dict[str, object]:
    paragraphs = [line.strip() for line in entry.answer.splitlines() if line.strip()]
    return {"id": anchor(entry.id), "question": entry.question, "paragraphs": paragraphs}


def _summary(query: str, found: int, total: int, locale: str | None) -> str | None:
    if not total:
        return _("There are no questions here yet. Ask us in the chat.", locale=locale)
    if not query:
        return None
    if not found:
        return _("Nothing here answers “{query}” yet. Try other words, or ask us in the "
                 "chat.", locale=locale, query=query)
    if found == 1:
        return _("One answer for “{query}”.", locale=locale, query=query)
    return _("{count} answers for “{query}”.", locale=locale, count=found, query=query)


def help_router() -> APIRouter:
    """Routes reading the shop the composition root put on `app.state`."""
    router = APIRouter()

    @router.get("/help", response_class=HTMLResponse)
    async def help_centre(request: Request, q: Annotated[str | None, Query(
            description=f"words to search the questions and answers for (the first "
                        f"{faq_search.MAX_QUERY} characters are read)")] = None,
                          ) -> HTMLResponse:
        shop: Shop = request.app.state.shop
        locale = request.headers.get("accept-language", "").split(",")[0][:35] or None
        query = _query(q)
        async with shop.transaction() as session:
            entries = await support.published(session=session)
            found = faq_search.rank(entries, query) if query else []
            everything = [_shown(entry) for entry in entries]
            matches = [_shown(entry) for entry in found]
        name = shop.settings.shop_name
        text = {
            "title": _("Help — {shop}", locale=locale, shop=name),
            "heading": _("How can we help?", locale=locale),
            "intro": _("Answers to what shoppers ask us most. Each one has its own link "
                       "you can share.", locale=locale),
            "label": _("Search the questions", locale=locale),
            "search": _("Search", locale=locale),
            "all": _("All questions", locale=locale),
            "link": _("Link to this answer", locale=locale),
            "chat": _("Still stuck? Ask us in the chat, and a person can join if the bot "
                      "can't help.", locale=locale),
            "skip": _("Skip to the answers", locale=locale),
        }
        page = _PAGES.get_template("help.html").render(
            lang=language_of(locale), shop=name, text=text, query=query, max=faq_search.MAX_QUERY,
            summary=_summary(query, len(matches), len(entries), locale),
            matches=matches, everything=everything if not (query and matches) else [],
        )
        return HTMLResponse(page, headers=HEADERS)

    @router.get("/help/help.css", include_in_schema=False)
    async def style() -> FileResponse:
        return FileResponse(STATIC / "help.css", media_type="text/css")

    return router
