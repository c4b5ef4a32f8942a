"""The parser's answer has exactly the shape of Rasa's /model/parse, whatever the text."""

import pytest

from bot.nlu.catalog_index import CatalogIndex
from bot.nlu.classifier import IntentClassifier
from bot.nlu.parser import NluParser
from bot.nlu.training_data import Example, parse_annotated

LINES = {
    "greet": ["hi", "hello", "hey", "good morning", "hiya"],
    "add_to_cart": ["add [2](quantity) [mugs](product)", "put a [lamp](product) in my cart",
                    "add it to the basket", "i'll take [three](quantity)", "add one more"],
    "search_product": ["do you have [mugs](product) under [20](price_max)",
                       "looking for a [lamp](product)", "search teapots", "find candles",
                       "anything cheaper than [10](price_max)"],
}
EXTRA_INTENTS = [f"intent_{i}" for i in range(9)]  # so the ranking is longer than 10


def _example(line: str, intent: str) -> Example:
    text, entities = parse_annotated(line)
    return Example(text, intent, entities)


def _examples() -> list[Example]:
    out = [_example(line, intent) for intent, lines in LINES.items() for line in lines]
    out += [Example(f"word{i} thing{i} stuff{i}", name)
            for name in EXTRA_INTENTS for i in range(3)]
    return out


@pytest.fixture(scope="module")
def parser() -> NluParser:
    index = CatalogIndex(products=[(1, "Blue mug"), (2, "Blue enamel camp mug")],
                         categories=[(5, "Lamps")])
    return NluParser(IntentClassifier.train(_examples()), index)


def test_parse_json_has_rasas_keys_and_types(parser):
    body = parser.parse("add 2 blue mugs").to_rasa_json()
    assert set(body) == {"text", "intent", "intent_ranking", "entities"}
    assert body["text"] == "add 2 blue mugs"
    assert set(body["intent"]) == {"name", "confidence"}
    assert body["intent"]["name"] == "add_to_cart"
    assert isinstance(body["intent"]["confidence"], float)
    assert len(body["intent_ranking"]) == 10
    assert body["intent_ranking"][0] == body["intent"]
    assert all(set(r) == {"name", "confidence"} for r in body["intent_ranking"])
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in body["entities"]] == [
        ("quantity", "2", 4, 5), ("product", "Blue mug", 6, 15)]
    assert body["entities"][1]["id"] == 1


def test_the_result_keeps_the_full_ranking(parser):
    result = parser.parse("hello")
    assert result.intent == "greet"
    assert len(result.ranking) == len(LINES) + len(EXTRA_INTENTS)
    assert result.ranking[0] == (result.intent, result.confidence)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_has_no_intent_and_no_crash(parser, text):
    body = parser.parse(text).to_rasa_json()
    assert body == {"text": text, "intent": {"name": None, "confidence": 0.0},
                    "intent_ranking": [], "entities": []}


def test_very_long_text_is_cut_for_understanding(parser):
    text = "add 2 blue mugs " + "x" * 10_000 + " under 20"
    result = parser.parse(text)
    assert result.text == text
    assert result.intent is not None
    assert all(e["end"] <= 4000 for e in result.entities)


def test_the_catalog_index_can_be_swapped_at_run_time(parser):
    before = parser.catalog_index
    try:
        parser.catalog_index = CatalogIndex(products=[(9, "Cedar candle")])
        values = [e["value"] for e in parser.parse("add a cedar candle").entities]
        assert values == ["Cedar candle"]
        assert parser.parse("add 2 blue mugs").entities[-1]["entity"] == "quantity"
    finally:
        parser.catalog_index = before


def test_without_an_index_there_are_no_catalog_entities():
    plain = NluParser(IntentClassifier.train(_examples()))
    assert [e["entity"] for e in plain.parse("add 2 blue mugs").entities] == ["quantity"]


def test_an_index_without_products_is_kept_with_its_synonyms_and_words(parser):
    index = CatalogIndex(synonyms={"a couple": "2"}, known_words=["hello"])
    assert len(index) == 0  # empty, so falsy: it once gave way to a bare index
    assert NluParser(parser.classifier, index).catalog_index is index


def test_the_embedded_nlu_recognises_its_own_words_named_things_and_not_gibberish(trained):
    assert trained.recognises("decaf available?")    # a word only inside an entity
    assert trained.recognises("whre is my ordr")
    assert not trained.recognises("qwxz vbnm plokij")
