"""Evaluation: per-intent scores, confusions and entity scores, as a table and as JSON."""

import json

import pytest

from bot.nlu.catalog_index import CatalogIndex
from bot.nlu.entities import extract_entities
from bot.nlu.evaluate import evaluate, normalise, side_by_side
from bot.nlu.parser import NluParser, ParseResult
from bot.nlu.training_data import parse_training_data

TEST = """\
nlu:
- intent: greet
  examples: |
    - hello
    - hi there
- intent: add_to_cart
  examples: |
    - add [two](quantity) [blue mugs](product)
    - add [a couple](quantity) please
- intent: order_status
  examples: |
    - where is [cc-7kx3mq](order_id)
- synonym: "2"
  examples: |
    - a couple
"""


class Scripted(NluParser):
    """A parser whose intents are fixed by the test: the scoring is what is tested."""

    def __init__(self, intents: dict[str, str], index: CatalogIndex | None = None) -> None:
        self.intents, self.catalog_index = intents, index or CatalogIndex()

    def parse(self, text: str) -> ParseResult:
        intent = self.intents[text]
        return ParseResult(text, intent, 1.0, [(intent, 1.0)],
                           extract_entities(text, self.catalog_index, intent))


ANSWERS = {"hello": "greet", "hi there": "add_to_cart", "add two blue mugs": "add_to_cart",
           "add a couple please": "add_to_cart", "where is cc-7kx3mq": "order_status"}


def test_intent_scores_accuracy_and_confusions():
    result = evaluate(parse_training_data(TEST), Scripted(ANSWERS))
    assert result.examples == 5
    assert result.accuracy == pytest.approx(0.8)
    scores = {s.name: s for s in result.intents}
    assert (scores["greet"].precision, scores["greet"].recall, scores["greet"].support) == \
        (1.0, 0.5, 2)
    assert scores["add_to_cart"].precision == pytest.approx(2 / 3)
    assert scores["add_to_cart"].f1 == pytest.approx(0.8)
    assert result.macro.recall == pytest.approx((0.5 + 1 + 1) / 3)
    assert result.weighted.recall == pytest.approx(0.8)
    assert result.confusions == [("greet", "add_to_cart", 1)]


def test_entities_are_scored_on_normalised_values_and_catalog_only_with_an_index():
    without = evaluate(parse_training_data(TEST), Scripted(ANSWERS))
    assert [s.name for s in without.entities] == ["order_id", "quantity"]
    assert without.entities_micro.f1 == 1.0
    index = CatalogIndex(products=[(1, "Blue mug")])
    with_index = evaluate(parse_training_data(TEST), Scripted(ANSWERS, index))
    assert [s.name for s in with_index.entities] == ["order_id", "product", "quantity"]
    assert {s.name: s.recall for s in with_index.entities}["product"] == 1.0


def test_table_and_json_forms():
    result = evaluate(parse_training_data(TEST), Scripted(ANSWERS))
    table = result.format_table()
    assert "accuracy" in table and "macro avg" in table and "weighted avg" in table
    assert "1  greet -> add_to_cart" in table
    assert "order_id" in table
    as_json = json.loads(json.dumps(result.as_dict()))
    assert as_json["accuracy"] == pytest.approx(0.8)
    assert as_json["intents"]["greet"]["support"] == 2
    assert as_json["confusions"] == [{"intent": "greet", "predicted": "add_to_cart",
                                      "count": 1}]
    assert set(as_json["entities"]) == {"order_id", "quantity"}


def test_normalise_writes_values_as_the_extractors_do():
    assert normalise("quantity", "two", {}) == "2"
    assert normalise("quantity", "a couple", {"a couple": "2"}) == "2"
    assert normalise("order_id", "cc-7kx3mq", {}) == "CC-7KX3MQ"
    assert normalise("price_max", "12,50", {}) == "12.50"


def test_two_backends_side_by_side_keep_each_ones_figures():
    test = parse_training_data(TEST)
    left = evaluate(test, Scripted(ANSWERS))
    right = evaluate(test, Scripted({**ANSWERS, "hi there": "greet",
                                     "where is cc-7kx3mq": "greet"}))
    table = side_by_side(left, right, ("embedded", "rasa"))
    lines = table.splitlines()
    assert "embedded" in lines[0] and "rasa" in lines[0]
    greet = next(line for line in lines if line.startswith("greet"))
    assert greet.split() == ["greet", "1.000", "0.500", "0.667", "|", "0.667", "1.000",
                             "0.800", "2"]
    accuracy = next(line for line in lines if line.startswith("accuracy"))
    assert accuracy.split() == ["accuracy", "0.800", "|", "0.800", "5"]
    assert "rasa: most frequent confusions (annotated -> predicted):" in table
    assert "1  order_status -> greet" in table
