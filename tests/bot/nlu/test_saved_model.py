"""The model file: reloaded when current, retrained when data or scikit-learn changed."""

from pathlib import Path

import joblib

from bot.nlu import saved_model
from bot.nlu.classifier import IntentClassifier
from bot.nlu.saved_model import fingerprint, load_classifier, load_or_train, save_classifier
from bot.nlu.training_data import Entity, Example

DATA = [Example(t, "greet") for t in ("hi", "hello", "hey", "good morning")] + \
       [Example(t, "view_cart") for t in ("show my cart", "my basket", "view cart", "cart")]


def test_a_saved_model_loads_back_and_predicts_the_same(tmp_path: Path):
    path = tmp_path / "models" / "nlu.joblib"
    trained = load_or_train(path, DATA)
    assert path.exists()
    loaded = load_classifier(path, fingerprint(DATA))
    assert loaded is not None and loaded is not trained
    for text in ("hello", "show me the cart", "something else"):
        assert loaded.rank(text) == trained.rank(text)


def test_a_current_model_is_not_retrained(tmp_path: Path, monkeypatch):
    path = tmp_path / "nlu.joblib"
    load_or_train(path, DATA)

    def refuse(*args, **kwargs):
        raise AssertionError("retrained a current model")

    monkeypatch.setattr(IntentClassifier, "train", refuse)
    assert load_or_train(path, DATA).predict("hi")[0] == "greet"


def test_changed_training_data_makes_the_model_stale(tmp_path: Path):
    path = tmp_path / "nlu.joblib"
    load_or_train(path, DATA)
    more = [*DATA, Example("bye", "goodbye"), Example("see you", "goodbye")]
    assert fingerprint(more) != fingerprint(DATA)
    assert load_classifier(path, fingerprint(more)) is None
    assert "goodbye" in load_or_train(path, more).intents
    assert load_classifier(path, fingerprint(more)) is not None


def test_another_scikit_learn_version_makes_the_model_stale(tmp_path: Path, monkeypatch):
    path = tmp_path / "nlu.joblib"
    save_classifier(IntentClassifier.train(DATA), path, fingerprint(DATA))
    monkeypatch.setattr(saved_model.sklearn, "__version__", "0.0.1")
    assert load_classifier(path, fingerprint(DATA)) is None


def test_a_corrupt_or_foreign_file_is_retrained_over(tmp_path: Path):
    path = tmp_path / "nlu.joblib"
    path.write_bytes(b"not a model")
    assert load_classifier(path, fingerprint(DATA)) is None
    joblib.dump({"something": "else"}, path)
    assert load_classifier(path, fingerprint(DATA)) is None
    assert load_or_train(path, DATA).predict("hello")[0] == "greet"


def test_the_fingerprint_sees_entity_annotations():
    plain = [Example("add mugs", "add_to_cart")]
    tagged = [Example("add mugs", "add_to_cart", (Entity("product", "mugs", 4, 8),))]
    assert fingerprint(plain) == fingerprint([Example("add mugs", "add_to_cart")])
    assert fingerprint(tagged) != fingerprint(plain)
