"""Each order event in words per channel: the chat reads exactly as it did before the
service, mail has a subject, text and escaped HTML, SMS fits two segments."""

import pytest

from core.notifications import sms
from core.notifications.render import render

N = "CC-7KX3MQ"
# What chats received before notices went through the service, word for word.
CHAT = [
    ("order_confirmed", {"authorized": True, "test": False, "receipt": ["Total: €5.00"]},
     f"Thank you! Order {N} is confirmed. Your payment is authorized; it is charged when "
     "the order ships.\nTotal: €5.00"),
    ("order_confirmed", {"authorized": False, "test": True, "receipt": ["a", "b"]},
     f"Thank you! Order {N} is confirmed. Payment received. (A TEST payment: no money "
     "moved.)\na\nb"),
    ("order_payment_failed", {}, f"The payment for order {N} didn't go through, so nothing "
     "was charged. The order is still reserved for you: you can try again."),
    ("order_payment_expired", {}, f"Order {N} was cancelled because its payment didn't "
     "arrive in time; the items are back on sale. You can order them again any time."),
    ("order_payment_returned", {}, f"The payment for order {N} didn't match the order's "
     "amount, so it is being returned to you in full. You can pay again."),
    ("order_late_payment_returned", {}, f"A payment for order {N} arrived after the order "
     "had been cancelled, so it is being returned to you in full."),
    ("order_cancelled", {"refunded": "€5.00"},
     f"Order {N} is cancelled. €5.00 is on its way back to you."),
    ("order_cancelled", {"refunded": None}, f"Order {N} is cancelled. Nothing was charged."),
    ("order_refunded", {"amount": "€2.50"}, f"We've refunded €2.50 for order {N}."),
    ("order_shipped", {"carrier": "DHL", "tracking": "JD1", "tracking_url": None},
     f"Good news: order {N} is on its way with DHL (tracking number JD1)."),
]
MAILED = ["order_confirmed", "order_payment_failed", "order_preparing", "order_shipped",
          "order_delivered", "order_cancelled", "order_refunded"]
CONTEXT = {"authorized": False, "test": False, "receipt": ["• 1 × <Mug> & co"],
           "refunded": None, "amount": "€1.00", "carrier": "<DHL>", "tracking": "JD1",
           "tracking_url": "https://t.example/?a=1&b=2",
           # returns and accounts
           "order": "CC-7KX3MQ", "instructions": "<b>1 Dock Road</b>", "reason": "Used",
           "platform": "Telegram", "new": "a•••@example.org", "role": "support",
           # nudges (core/nudges): back in stock, cart reminder
           "name": "<Mug> & co", "price": "€16.00", "link": "https://shop.example/chat",
           "count": 2, "names": "<Mug> & co", "total": "€32.00"}


@pytest.mark.parametrize(("kind", "context", "words"), CHAT)
def test_chats_read_as_they_did_before(kind, context, words):
    assert render(kind, {"number": N, **context}).chat == words


@pytest.mark.parametrize("kind", MAILED)
def test_every_order_update_has_a_mail_with_text_and_escaped_html(kind):
    parts = render(kind, {"number": N, **CONTEXT})
    assert parts.subject and N in parts.subject and "\n" not in parts.subject
    assert parts.text and N in parts.text
    assert parts.html and parts.html.startswith("<!DOCTYPE html>") and N in parts.html
    assert "<Mug>" not in parts.html and "<DHL>" not in parts.html
    assert parts.sms and sms.segments(parts.sms) <= 2


def test_a_shipped_mail_links_the_carriers_tracking_page():
    parts = render("order_shipped", {"number": N, **CONTEXT})
    assert 'href="https://t.example/?a=1&amp;b=2"' in parts.html
    assert "https://t.example/?a=1&b=2" in parts.text and "&amp;" not in parts.text


def test_chat_only_notices_send_no_mail():
    for kind in ("order_payment_expired", "order_payment_returned",
                 "order_late_payment_returned"):
        parts = render(kind, {"number": N})
        assert parts.chat and parts.subject is None and parts.html is None


@pytest.fixture
def german(tmp_path, monkeypatch):
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    from core import i18n

    catalog = Catalog(locale="de", domain=i18n.DOMAIN)
    catalog.add("Order {number} is on its way", "Bestellung {number} ist unterwegs")
    catalog.add("Track your parcel", "Sendung verfolgen")
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / f"{i18n.DOMAIN}.mo", "wb") as file:
        write_mo(file, catalog)
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    i18n._catalog.cache_clear()
    yield
    i18n._catalog.cache_clear()


def test_a_german_reader_gets_the_sentences_a_catalog_has_in_german(german):
    parts = render("order_shipped", {"number": N, **CONTEXT}, locale="de-DE")
    assert parts.subject == f"Bestellung {N} ist unterwegs"
    assert ">Sendung verfolgen</a>" in parts.html
    assert parts.chat.startswith("Good news")  # a sentence the catalog lacks: English


def test_every_template_sentence_is_found_by_the_translators_extraction():
    from babel.messages.extract import extract_from_file

    from core.notifications.render import TEMPLATES

    for template in sorted(TEMPLATES.glob("*.jinja")):
        found = {message for _line, message, _c, _ctx in
                 extract_from_file("jinja2.ext:babel_extract", str(template))}
        assert found, template.name
        rendered = render(template.stem, {"number": N, "shop": "shop.example", **CONTEXT})
        if rendered.subject:  # the subject is one of the sentences a translator sees
            assert any("{" in m or m == rendered.subject for m in found)
