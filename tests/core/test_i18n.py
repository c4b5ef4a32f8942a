"""The one translation function: whole sentences, named placeholders, English fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from core import i18n


@pytest.fixture
def german(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = Catalog(locale="de", domain=i18n.DOMAIN)
    catalog.add("Only {count} left", "Nur noch {count} da")
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / f"{i18n.DOMAIN}.mo", "wb") as file:
        write_mo(file, catalog)
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    i18n._catalog.cache_clear()
    yield
    i18n._catalog.cache_clear()


def test_a_german_reader_gets_the_german_sentence_with_the_number_in_place(german):
    assert i18n._("Only {count} left", locale="de-DE", count=3) == "Nur noch 3 da"


def test_a_sentence_no_catalog_has_reads_in_english(german):
    assert i18n._("Only {count} left", locale="es", count=2) == "Only 2 left"
    assert i18n._("Sold out", locale="de") == "Sold out"
    assert i18n._("Only {count} left", count=1) == "Only 1 left"


@pytest.mark.parametrize("tag, language", [("de-DE", "de"), ("es_ES", "es"), (None, "en"),
                                           ("", "en"), ("../../etc", "en"), ("x" * 50, "en")])
def test_a_locale_tag_names_a_language_and_nothing_else(tag, language):
    assert i18n.language_of(tag) == language
