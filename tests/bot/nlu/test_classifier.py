"""The intent classifier on a small inline dataset: it separates intents, ranks them all."""

import numpy as np
import pytest
import scipy.sparse as sp

from bot.nlu.classifier import IntentClassifier, with_placeholders
from bot.nlu.training_data import Example, parse_annotated

SMALL = {
    "greet": ["hi", "hello", "hey there", "good morning", "hiya", "hello chatcart"],
    "add_to_cart": ["add [2](quantity) [mugs](product) to my cart", "put a [teapot](product) in "
                    "the basket", "i'll take [three](quantity) [candles](product)",
                    "add the [lamp](product)", "add it to my cart", "buy [one](quantity) now"],
    "order_status": ["where is my order", "track order [CC-7KX3MQ](order_id)",
                     "has my parcel shipped", "when will my order arrive",
                     "status of my order", "is [cc-b2n8wz](order_id) on its way"],
    "view_cart": ["show my cart", "what's in my basket", "view cart", "open my cart",
                  "my basket please", "what have i got in the cart"],
}


def examples(data: dict[str, list[str]] = SMALL) -> list[Example]:
    out = []
    for intent, lines in data.items():
        for line in lines:
            text, entities = parse_annotated(line)
            out.append(Example(text, intent, entities))
    return out


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    return IntentClassifier.train(examples())


@pytest.mark.parametrize(("text", "intent"), [
    ("hello there", "greet"),
    ("add two teapots to the cart", "add_to_cart"),
    ("where's my parcel", "order_status"),
    ("show me my basket", "view_cart"),
])
def test_unseen_sentences_get_their_intent(classifier, text, intent):
    assert classifier.predict(text)[0] == intent


def test_the_ranking_lists_every_intent_best_first_and_sums_to_one(classifier):
    ranking = classifier.rank("add a mug to my cart")
    assert sorted(name for name, _ in ranking) == sorted(SMALL)
    confidences = [c for _, c in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert sum(confidences) == pytest.approx(1.0)
    assert ranking[0] == classifier.predict("add a mug to my cart")


def test_the_fast_path_agrees_with_scikit_learn(classifier):
    texts = ["add 2 mugs", "where is CC-7KX3MQ", "zzz qqq", "", "hello " * 50]
    matrix = sp.hstack([v.transform(texts) for v in classifier.vectorizers]).tocsr()
    expected = classifier.model.decision_function(matrix)
    got = np.array([classifier.scores(t) for t in texts])
    assert np.allclose(got, expected)


def test_gibberish_is_not_confident(classifier):
    assert classifier.predict("qwxz vbnm")[1] < 0.6


def test_two_intents_are_enough():
    two = IntentClassifier.train(examples({k: SMALL[k] for k in ("greet", "view_cart")}))
    assert two.predict("hello")[0] == "greet"
    assert two.predict("show my cart")[0] == "view_cart"


def test_one_intent_is_refused():
    with pytest.raises(ValueError, match="two intents"):
        IntentClassifier.train(examples({"greet": SMALL["greet"]}))


def test_placeholders_replace_annotated_entities():
    text, entities = parse_annotated("add [2](quantity) [blue mugs](product) from "
                                     "[CC-7KX3MQ](order_id)")
    assert with_placeholders(Example(text, "add_to_cart", entities)) == \
        "add xnumberx xproductx from xorderidx"
