"""Entities in Rasa's shape; patterns claim their digits before quantities are read."""

import pytest

from bot.nlu.catalog_index import CatalogIndex
from bot.nlu.entities import extract_entities, find_emails, find_order_ids

KEYS = {"entity", "value", "start", "end", "confidence_entity", "extractor"}


def found(text: str, intent: str | None = None,
          index: CatalogIndex | None = None) -> list[tuple[str, str, str]]:
    return [(e["entity"], e["value"], text[e["start"]:e["end"]])
            for e in extract_entities(text, index, intent)]


def test_entities_have_rasas_keys():
    entities = extract_entities("add 2 to my cart, mail me at ann@example.com")
    assert entities and all(set(e) == KEYS for e in entities)
    assert all(0.0 <= e["confidence_entity"] <= 1.0 for e in entities)


@pytest.mark.parametrize(("text", "expected"), [
    ("where is cc-7kx3mq", [("order_id", "CC-7KX3MQ", "cc-7kx3mq")]),
    ("order 7KX3MQ", [("order_id", "CC-7KX3MQ", "7KX3MQ")]),
    ("order number 7kx3mq please", [("order_id", "CC-7KX3MQ", "7kx3mq")]),
    ("status of #CC 7KX3MQ?", [("order_id", "CC-7KX3MQ", "#CC 7KX3MQ")]),
    ("cancel XW3K9P", [("order_id", "CC-XW3K9P", "XW3K9P")]),
])
def test_order_numbers_are_normalised(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    "order change please",  # valid letters, but a word
    "order status",  # U is not in the alphabet
    "cc-7kx3mq1",  # seven characters
    "CC-1KX3MQ",  # 1 is never used
])
def test_things_that_are_not_order_numbers(text):
    assert find_order_ids(text) == []


def test_emails_are_found_whole():
    assert find_emails("mail tom.b+shop@mail.example.co.uk.") == [
        ("tom.b+shop@mail.example.co.uk", 5, 34)]
    assert find_emails("not@an address") == []


def test_digits_of_order_numbers_prices_and_emails_are_not_quantities():
    assert found("return 2 mugs from CC-7KX3MQ") == [
        ("quantity", "2", "2"), ("order_id", "CC-7KX3MQ", "CC-7KX3MQ")]
    assert found("mugs under 20") == [("price_max", "20", "20")]
    assert found("email tom2@example.com") == [("email", "tom2@example.com",
                                                "tom2@example.com")]
    assert found("it's been 5 days") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("two mugs", ["2"]),
    ("a couple of mugs", ["2"]),
    ("half a dozen candles", ["6"]),
    ("add 3", ["3"]),
    ("change it from 2 to 3", ["3"]),
    ("i need 3 red mugs not 2", ["3"]),
    ("2 instead of 4", ["2"]),
])
def test_quantities_in_cart_sentences(text, expected):
    values = [v for kind, v, _ in found(text, "update_cart_quantity") if kind == "quantity"]
    assert values == expected


def test_a_cart_intent_reads_a_bare_range_as_quantities_but_search_as_prices():
    assert [k for k, _, _ in found("mugs from 10 to 20", "search_product")] == [
        "price_min", "price_max"]
    assert found("change the mugs from 2 to 3", "update_cart_quantity") == [
        ("quantity", "3", "3")]


def test_catalog_entities_carry_the_canonical_name_and_id():
    index = CatalogIndex(products=[(7, "Blue mug")], categories=[(3, "Lamps")])
    entities = extract_entities("add 2 blue mugs and show lamps", index, "add_to_cart")
    assert [(e["entity"], e["value"], e.get("id")) for e in entities] == [
        ("quantity", "2", None), ("product", "Blue mug", 7), ("category", "Lamps", 3)]
    assert entities[1]["extractor"] == "chatcart_catalog"


def test_the_intent_decides_whether_a_bare_mug_is_a_product_or_the_section():
    index = CatalogIndex(products=[(1, "Blue mug"), (2, "Red mug")], categories=[(9, "Mugs")])
    assert [v for _, v, _ in found("add a mug", "add_to_cart", index)] == ["Blue mug", "Red mug"]
    assert [v for _, v, _ in found("show me mugs", "browse_catalog", index)] == ["Mugs"]
    assert [v for _, v, _ in found("mugs", None, index)] == ["Mugs"]
