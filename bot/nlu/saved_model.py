"""The trained classifier on disk, stamped so a model from other data or code is retrained.

The stamp is a hash of the training examples (text, intent, entities) plus the
scikit-learn version and this module's format number: any change means a stale file.
Only load files this process family wrote: joblib files are pickles.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

import joblib
import sklearn

from bot import logs
from bot.nlu.classifier import IntentClassifier
from bot.nlu.training_data import Example

log = logging.getLogger("chatcart.nlu.model")
FORMAT = 1


def fingerprint(examples: Sequence[Example]) -> str:
    """A hash of everything the classifier learns from."""
    rows = [[e.text, e.intent, [[x.entity, x.value, x.start, x.end] for x in e.entities]]
            for e in examples]
    blob = json.dumps([FORMAT, rows], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def save_classifier(classifier: IntentClassifier, path: str | Path, stamp: str) -> None:
    """Write atomically: a half-written model is never read by a starting server."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Replicas in containers are all PID 1: a random part keeps their files apart.
    partial = path.with_name(path.name + f".{os.getpid()}.{secrets.token_hex(4)}.tmp")
    joblib.dump({"format": FORMAT, "fingerprint": stamp, "sklearn": sklearn.__version__,
                 "classifier": classifier}, partial)
    os.replace(partial, path)


def load_classifier(path: str | Path, stamp: str) -> IntentClassifier | None:
    """The saved classifier, or None when missing, unreadable or stale."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        saved = joblib.load(path)
    except Exception as error:  # a corrupt or foreign file is just a stale model
        logs.event(log, "nlu.model_unreadable", logging.WARNING, path=str(path),
                   error=type(error).__name__)
        return None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT \
            or saved.get("sklearn") != sklearn.__version__ \
            or saved.get("fingerprint") != stamp \
            or not isinstance(saved.get("classifier"), IntentClassifier):
        return None
    return saved["classifier"]


def load_or_train(path: str | Path, examples: Sequence[Example]) -> IntentClassifier:
    """The saved model when it is current; otherwise train on the examples and save."""
    stamp = fingerprint(examples)
    classifier = load_classifier(path, stamp)
    if classifier is None:
        classifier = IntentClassifier.train(examples)
        save_classifier(classifier, path, stamp)
        logs.event(log, "nlu.model_trained", path=str(path), examples=len(examples))
    return classifier
