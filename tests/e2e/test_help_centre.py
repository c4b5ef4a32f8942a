"""The help centre (GET /help) as shoppers meet it: the page, its search, and the links
the web chat and the bot's FAQ answers give to it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from bot.server import create_app
from core.support import service as support
from tests.conftest import make_settings
from tests.e2e.webchat import Shopper
from tests.support.demo_copy import demo_filled


@pytest.fixture
async def client(database_url, tmp_path, trained):
    from core.shop import Shop

    settings = make_settings(database_url, tmp_path / "data", SHOP_NAME="Mugs & Co",
                             PUBLIC_BASE_URL="https://shop.example")
    shop = Shop.from_settings(settings)
    await demo_filled(shop)
    app = create_app(settings, shop, nlu=trained, sweep_seconds=3600)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://test") as http:
                http.shop = shop  # type: ignore[attr-defined]
                yield http
    finally:
        await shop.close()


async def _faq(client) -> dict[str, int]:
    async with client.shop.transaction() as session:
        return {entry.question: entry.id for entry in await support.published(session=session)}


def _questions(page: str) -> list[str]:
    return re.findall(r'<article class="entry" id="faq-\d+">\s*<h2>([^<]+)</h2>', page)


async def test_the_help_centre_shows_every_answer_under_its_own_anchor(client):
    faq = await _faq(client)
    page = await client.get("/help")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<title>Help — Mugs &amp; Co</title>" in page.text  # the shop's name, escaped
    assert _questions(page.text) == list(faq)  # in the staff's order
    for question, entry_id in faq.items():
        assert f'<article class="entry" id="faq-{entry_id}">\n      <h2>{question}</h2>' \
            in page.text
    assert "Shipping is €4.95 in the EU" in page.text
    assert '<form class="search" role="search" method="get" action="/help">' in page.text
    assert '<label for="q">' in page.text and 'href="/chat"' in page.text
    assert "<script" not in page.text and "style=" not in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    css = await client.get("/help/help.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_a_search_in_the_shoppers_own_words_finds_the_answer(client):
    page = await client.get("/help", params={"q": "can I get my money back?"})
    assert page.status_code == 200
    assert _questions(page.text) == ["Can I return something?"]
    assert "One answer for “can I get my money back?”." in page.text
    assert 'value="can I get my money back?"' in page.text  # the box keeps the search
    assert '<a href="/help">All questions</a>' in page.text
    several = await client.get("/help", params={"q": "shipping abroad"})
    assert _questions(several.text)[0] == "Do you ship internationally?"
    assert "answers for “shipping abroad”" in several.text


async def test_a_search_nothing_answers_says_so_and_shows_every_question(client):
    page = await client.get("/help", params={"q": "zebra quantum"})
    assert page.status_code == 200
    assert "Nothing here answers “zebra quantum” yet." in page.text
    assert _questions(page.text) == list(await _faq(client))


async def test_hostile_searches_are_shown_as_text_and_never_fail(client):
    page = await client.get("/help", params={"q": '"><script>alert(1)</script>'})
    assert page.status_code == 200
    assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert 'value="&#34;&gt;&lt;script&gt;' in page.text  # the attribute is not broken out of
    for raw in ("q=" + "shipping%20" * 3000, "q=%00%0a%ED%A0%80%FF", "q=a&q=b", "q=",
                "q=%E2%80%AE%F0%9F%A4%94", "q[]=x", "q=" + "%" * 50):
        response = await client.get(f"/help?{raw}")
        assert response.status_code == 200, raw
        assert "\x00" not in response.text
    cut = await client.get("/help", params={"q": "x" * 5000})
    assert f'value="{"x" * 200}"' in cut.text and "x" * 201 not in cut.text


async def test_the_bot_links_its_faq_answer_to_its_place_in_the_help_centre(client):
    faq = await _faq(client)
    eve = Shopper(client)
    await eve.say("how much is shipping to germany")
    assert "Shipping is €4.95 in the EU" in eve.text
    links = [link for reply in eve.last for link in reply["links"]]
    entry_id = faq["How much is shipping?"]
    assert links == [{"label": "Read it in the help centre",
                      "url": f"https://shop.example/help#faq-{entry_id}"}]
    page = await client.get(urlsplit(links[0]["url"]).path)
    assert f'id="faq-{entry_id}"' in page.text


async def test_a_question_after_hundreds_of_blanks_is_answered_not_an_error(client):
    eve = Shopper(client)
    for blanks in (" " * 250, "\u3000" * 300 + "\n"):
        await eve.say(blanks + "how much is shipping to germany")
        assert "Shipping is €4.95 in the EU" in eve.text, eve.text
        assert "went wrong" not in eve.text
    page = await client.get("/help", params={"q": " " * 300 + "shipping"})
    assert page.status_code == 200


async def test_the_web_chat_page_links_to_the_help_centre(client):
    page = await client.get("/chat")
    assert page.status_code == 200 and 'href="/help"' in page.text


async def test_a_shop_question_the_faq_does_not_answer_gets_no_guess_but_a_person(client):
    """Word overlap answered this with the returns policy (it shares "policy")."""
    fay = Shopper(client)
    await fay.say("what's your policy on gift wrapping")
    assert fay.text.startswith("I don't know the answer to that one.")
    assert "30 days" not in fay.text and "Talk to a person" in fay.buttons()
    links = [link for reply in fay.last for link in reply["links"]]
    assert links == [{"label": "All questions in the help centre",
                      "url": "https://shop.example/help"}]
