"""Sentences people read go through `_`: a whole sentence with named placeholders
(`_("Only {count} left", count=3)`), so a translator sees each one as a unit and can move
the placeholders where their language puts them. Never glue a sentence from pieces.

Catalogs are GNU gettext files, `core/locales/<lang>/LC_MESSAGES/chatcart.mo`, found by
the standard library; babel extracts the messages (`pybabel extract -k _`). A language
without a catalog, or a sentence a catalog lacks, reads in the English written here.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "chatcart"


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALES, languages=[language], fallback=True)


def language_of(locale: str | None) -> str:
    """The language part of a BCP 47 tag (`de-DE` -> `de`); English when none is given."""
    primary = (locale or "en").replace("_", "-").split("-", 1)[0].lower()
    return primary if primary.isalpha() and len(primary) <= 8 else "en"


def _(message: str, /, locale: str | None = None, **values: object) -> str:
    """`message` in the reader's language, its `{named}` placeholders filled in."""
    text = _catalog(language_of(locale)).gettext(message)
    return text.format(**values) if values else text
