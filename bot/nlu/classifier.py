"""Intent classifier: TF-IDF word and character n-grams into a linear SVM.

Measured on the held-back split (bot/nlu/data/test.yml) and 5-fold CV: LinearSVC beat
LogisticRegression on accuracy and trains 20x faster (0.2 s vs 4-6 s). Its decision
scores become confidences by a softmax whose temperature is fitted on out-of-fold scores,
so a confidence of 0.4 (the pipeline's fallback line) means roughly what it says.
Training also sees each annotated sentence with its entities replaced by placeholders
(+1 point in CV): the model learns "add X to my cart", not which products get added.
Prediction skips scikit-learn's per-call checks (about 10x faster for one sentence).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from bot.nlu.training_data import Example

MAX_CHARS = 4000
PLACEHOLDERS = {"product": "xproductx", "category": "xcategoryx", "quantity": "xnumberx",
                "price_min": "xpricex", "price_max": "xpricex", "email": "xemailx",
                "order_id": "xorderidx"}
DEFAULT_TEMPERATURE = 5.0  # the fitted value on the shipped data; used when data is tiny
_TEMPERATURES = np.linspace(0.5, 15.0, 59)


def _vectorizers() -> list[TfidfVectorizer]:
    return [TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                            token_pattern=r"(?u)\b\w+\b"),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)]


def with_placeholders(example: Example) -> str:
    """The sentence with each annotated entity replaced by its placeholder token."""
    text = example.text
    for e in sorted(example.entities, key=lambda e: e.start, reverse=True):
        if e.entity in PLACEHOLDERS:
            text = text[:e.start] + PLACEHOLDERS[e.entity] + text[e.end:]
    return text


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores * temperature
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


@dataclass
class _Block:
    """One vectorizer's vocabulary and idf, kept as plain Python/numpy for speed."""

    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int


class IntentClassifier:
    def __init__(self, vectorizers: list[TfidfVectorizer], model: LinearSVC,
                 temperature: float) -> None:
        self.vectorizers, self.model, self.temperature = vectorizers, model, temperature
        self.intents: list[str] = [str(c) for c in model.classes_]
        self._prepare()

    def _prepare(self) -> None:
        self._blocks: list[_Block] = []
        offset = 0
        for vec in self.vectorizers:
            self._blocks.append(_Block(vec.build_analyzer(), dict(vec.vocabulary_),
                                       np.asarray(vec.idf_, dtype=np.float64), offset))
            offset += len(vec.vocabulary_)
        coef = np.asarray(self.model.coef_, dtype=np.float64)
        if coef.shape[0] == 1:  # two intents: sklearn keeps one row for the second class
            coef = np.vstack([-coef, coef])
        self._coef_t = np.ascontiguousarray(coef.T)  # (features, intents): rows gather fast
        intercept = np.atleast_1d(np.asarray(self.model.intercept_, dtype=np.float64))
        self._intercept = np.concatenate([-intercept, intercept]) if intercept.size == 1 \
            else intercept

    def __getstate__(self) -> dict[str, object]:
        return {"vectorizers": self.vectorizers, "model": self.model,
                "temperature": self.temperature}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.vectorizers, self.model = state["vectorizers"], state["model"]
        self.temperature = float(state["temperature"])
        self.intents = [str(c) for c in self.model.classes_]
        self._prepare()

    @classmethod
    def train(cls, examples: Sequence[Example], c: float = 1.0) -> IntentClassifier:
        """Fit on the examples (plus their placeholder twins); needs two intents or more."""
        labels = [e.intent for e in examples]
        if len(set(labels)) < 2:
            raise ValueError("training needs examples of at least two intents")
        texts = [e.text for e in examples]
        twins = [(with_placeholders(e), e.intent) for e in examples if e.entities]
        all_texts = texts + [t for t, _ in twins]
        all_labels = labels + [label for _, label in twins]
        vectorizers = _vectorizers()
        matrix = sp.hstack([v.fit_transform(all_texts) for v in vectorizers]).tocsr()
        model = LinearSVC(C=c).fit(matrix, all_labels)
        temperature = _fit_temperature(matrix, all_labels, len(texts), examples, c)
        return cls(vectorizers, model, temperature)

    def scores(self, text: str) -> np.ndarray:
        """The linear model's decision scores, one per intent (same as decision_function)."""
        indices: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for block in self._blocks:
            counts: dict[int, int] = {}
            for gram in block.analyze(text[:MAX_CHARS]):
                j = block.vocabulary.get(gram)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            w = (1.0 + np.log(tf)) * block.idf[idx]
            indices.append(idx + block.offset)
            weights.append(w / np.sqrt(w @ w))
        if not indices:
            return self._intercept.copy()
        idx, w = np.concatenate(indices), np.concatenate(weights)
        return w @ self._coef_t[idx] + self._intercept

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Every intent with its confidence, best first; confidences sum to 1."""
        probabilities = _softmax(self.scores(text), self.temperature)
        order = np.argsort(-probabilities, kind="stable")
        return [(self.intents[i], float(probabilities[i])) for i in order]

    def predict(self, text: str) -> tuple[str, float]:
        return self.rank(text)[0]


def _fit_temperature(matrix: sp.csr_matrix, labels: list[str], originals: int,
                     examples: Sequence[Example], c: float) -> float:
    """Softmax temperature with the least log loss on out-of-fold decision scores."""
    y = np.asarray(labels[:originals])
    _, per_class = np.unique(y, return_counts=True)
    if per_class.min() < 3:
        return DEFAULT_TEMPERATURE
    twin_of = [i for i, e in enumerate(examples) if e.entities]  # row originals + k <-> twin_of[k]
    twin_rows = np.arange(originals, originals + len(twin_of))
    twin_source = np.asarray(twin_of, dtype=np.intp)
    scores, truth = [], []
    for train, held in StratifiedKFold(3, shuffle=True, random_state=0).split(y, y):
        rows = np.concatenate([train, twin_rows[np.isin(twin_source, train)]])
        model = LinearSVC(C=c).fit(matrix[rows], np.asarray(labels)[rows])
        fold_scores = model.decision_function(matrix[held])
        if fold_scores.ndim == 1:
            fold_scores = np.column_stack([-fold_scores, fold_scores])
        scores.append(fold_scores)
        truth.append(np.searchsorted(model.classes_, y[held]))
    s, t = np.vstack(scores), np.concatenate(truth)
    losses = [-np.mean(np.log(_softmax(s, T)[np.arange(len(t)), t] + 1e-12))
              for T in _TEMPERATURES]
    return float(_TEMPERATURES[int(np.argmin(losses))])
