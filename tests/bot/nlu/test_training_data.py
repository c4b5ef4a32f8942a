"""Loading Rasa NLU YAML: annotations stripped, offsets right, mistakes named by line."""

from pathlib import Path

import pytest

from bot.nlu.training_data import Entity, load_training_data, parse_annotated, parse_training_data

RASA_FILE = """\
version: "3.1"
nlu:
- intent: add_to_cart
  examples: |
    - add [two](quantity) [blue mugs](product) please
    - put [a couple](quantity:2) of [tees]{"entity": "product", "value": "t-shirt"} in
    - add it

- intent: greet
  examples: |
    - hi
    - hello there

- synonym: french press
  examples: |
    - Cafetiere
    - plunger

- lookup: category
  examples: |
    - mugs
    - lamps

- regex: order_id
  examples: |
    - \\bCC-[A-Z0-9]{6}\\b
"""


def test_annotations_are_stripped_and_offsets_point_into_the_plain_text():
    text, entities = parse_annotated("add [two](quantity) [blue mugs](product) please")
    assert text == "add two blue mugs please"
    assert entities == (Entity("quantity", "two", 4, 7), Entity("product", "blue mugs", 8, 17))
    assert [text[e.start:e.end] for e in entities] == ["two", "blue mugs"]


def test_explicit_values_in_short_and_json_form():
    text, entities = parse_annotated(
        'a [couple](quantity:2) of [tees]{"entity": "product", "value": "t-shirt"}')
    assert text == "a couple of tees"
    assert [(e.entity, e.value, text[e.start:e.end]) for e in entities] == [
        ("quantity", "2", "couple"), ("product", "t-shirt", "tees")]


def test_json_annotation_without_value_keeps_the_text_and_ignores_roles():
    text, entities = parse_annotated('from [Berlin]{"entity": "city", "role": "departure"}')
    assert text == "from Berlin" and entities == (Entity("city", "Berlin", 5, 11),)


def test_brackets_that_are_not_annotations_stay_as_text():
    assert parse_annotated("price [approx] 20") == ("price [approx] 20", ())
    assert parse_annotated("a (note) here") == ("a (note) here", ())


def test_annotation_at_start_and_end_and_adjacent():
    text, entities = parse_annotated("[2](quantity)[mugs](product)")
    assert text == "2mugs"
    assert [(e.start, e.end) for e in entities] == [(0, 1), (1, 5)]


@pytest.mark.parametrize("line", [
    "add [two](quantity",  # unclosed
    "add [two]()",  # no entity name
    "add [two](quantity:)",  # empty value
    'add [two]{"value": "2"}',  # JSON without entity
    'add [two]{"entity": quantity}',  # not JSON
    "add [two](has space)",
])
def test_malformed_annotations_are_refused_with_their_place(line):
    with pytest.raises(ValueError, match="nlu.yml:7"):
        parse_annotated(line, "nlu.yml:7")


def test_a_file_loads_examples_synonyms_lookups_and_regexes(tmp_path: Path):
    path = tmp_path / "nlu.yml"
    path.write_text(RASA_FILE, encoding="utf-8")
    data = load_training_data(path)
    assert [e.text for e in data.examples] == [
        "add two blue mugs please", "put a couple of tees in", "add it", "hi", "hello there"]
    assert data.intents == ["add_to_cart", "greet"]
    assert data.synonyms == {"cafetiere": "french press", "plunger": "french press",
                             "a couple": "2", "tees": "t-shirt"}
    assert data.lookups == {"category": ["mugs", "lamps"]}
    assert data.regexes == {"order_id": [r"\bCC-[A-Z0-9]{6}\b"]}
    assert data.vocabulary() >= {"add", "please", "put", "of", "hello"}
    assert "mugs" not in data.vocabulary()  # inside an entity


def test_a_bad_example_line_is_reported_with_file_and_line_number():
    broken = RASA_FILE.replace("    - add it", "    - add [it](product")
    with pytest.raises(ValueError, match=r"nlu\.yml:7: malformed entity annotation"):
        parse_training_data(broken, source="nlu.yml")


def test_a_line_without_a_dash_is_reported_with_its_line_number():
    broken = RASA_FILE.replace("    - hello there", "    hello there")
    with pytest.raises(ValueError, match=r"nlu\.yml:12: expected '- example'"):
        parse_training_data(broken, source="nlu.yml")


@pytest.mark.parametrize(("text", "message"), [
    ("nlu:\n- intent: greet\n", "has no examples"),
    ("nlu:\n- examples: |\n    - hi\n", "exactly one of"),
    ("nlu: {intent: greet}\n", "must be a list"),
    ("nlu:\n- intent: greet\n  examples: [\n", "not valid YAML"),
    ("nlu:\n- synonym: a\n  examples: |\n    - x\n- synonym: b\n  examples: |\n    - x\n",
     "maps to both"),
])
def test_structural_mistakes_are_clear(text, message):
    with pytest.raises(ValueError, match=message):
        parse_training_data(text, source="bad.yml")


def test_files_without_nlu_items_are_empty_not_errors():
    assert parse_training_data("version: '3.1'\n").examples == []
    assert parse_training_data("").examples == []
