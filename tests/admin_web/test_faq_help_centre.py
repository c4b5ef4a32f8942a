"""What support staff change in the console's FAQ is what the public help centre shows,
on the very next request: a new entry, a corrected answer, one taken down."""

from __future__ import annotations

import re

from tests.admin_web.conftest import PASSWORD
from tests.admin_web.console import ConsoleUser, csrf


def _questions(page: str) -> list[str]:
    return re.findall(r'<article class="entry" id="faq-\d+">\s*<h2>([^<]+)</h2>', page)


async def test_an_faq_edit_in_the_console_shows_in_the_help_centre_at_once(client):
    empty = await client.get("/help")
    assert empty.status_code == 200 and "There are no questions here yet." in empty.text
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    token = csrf((await client.get("/admin/faq")).text)
    added = await client.post("/admin/faq", data={
        "csrf": token, "question": "Do you gift-wrap?",
        "answer": "Yes, for €3.\nAsk at checkout.", "keywords": "present wrapping"})
    assert added.status_code == 303
    page = (await client.get("/help")).text
    assert _questions(page) == ["Do you gift-wrap?"]
    assert "<p>Yes, for €3.</p>" in page and "<p>Ask at checkout.</p>" in page
    entry_id = re.search(r'id="faq-(\d+)"', page).group(1)  # type: ignore[union-attr]
    found = await client.get("/help", params={"q": "can you wrap a present"})
    assert _questions(found.text) == ["Do you gift-wrap?"]

    corrected = await client.post(f"/admin/faq/{entry_id}", data={
        "csrf": token, "question": "Do you gift-wrap?", "answer": "Yes, for free.",
        "keywords": "present wrapping", "published": "on"})
    assert corrected.status_code == 303
    page = (await client.get("/help")).text
    assert "Yes, for free." in page and "€3" not in page

    hidden = await client.post(f"/admin/faq/{entry_id}", data={
        "csrf": token, "question": "Do you gift-wrap?", "answer": "Yes, for free.",
        "keywords": "present wrapping"})
    assert hidden.status_code == 303
    assert _questions((await client.get("/help")).text) == []
    gone = await client.get("/help", params={"q": "can you wrap a present"})
    assert "There are no questions here yet." in gone.text and "for free" not in gone.text
