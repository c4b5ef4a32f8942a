"""How well the NLU does on held-back sentences: intents, their confusions, and entities.

Entities count as found when type and value agree after the same normalisation the
extractors apply ("two" -> "2", "cc-7kx3mq" -> "CC-7KX3MQ"). Product and category are
scored only with a catalog index, and then by overlapping span: the annotation holds the
words typed, the extractor the catalog's name for them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from bot.nlu.numbers import word_value
from bot.nlu.parser import NluParser
from bot.nlu.training_data import Example, TrainingData
from core.orders.numbers import parse_number

CATALOG_ENTITIES = frozenset({"product", "category"})


@dataclass(frozen=True, slots=True)
class Score:
    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    intents: list[Score]
    accuracy: float
    macro: Score
    weighted: Score
    confusions: list[tuple[str, str, int]]  # (annotated, predicted, count), most first
    entities: list[Score]
    entities_micro: Score
    examples: int

    def as_dict(self) -> dict[str, Any]:
        def row(s: Score) -> dict[str, Any]:
            return {"precision": s.precision, "recall": s.recall, "f1": s.f1,
                    "support": s.support}
        return {"examples": self.examples, "accuracy": self.accuracy,
                "intents": {s.name: row(s) for s in self.intents},
                "macro_avg": row(self.macro), "weighted_avg": row(self.weighted),
                "confusions": [{"intent": a, "predicted": p, "count": n}
                               for a, p, n in self.confusions],
                "entities": {s.name: row(s) for s in self.entities},
                "entities_micro_avg": row(self.entities_micro)}

    def format_table(self, confusions: int = 10) -> str:
        lines = [_header("intent")] + [_line(s) for s in self.intents]
        lines += ["", f"{'accuracy':<26}{'':>20}{self.accuracy:>10.3f}{self.examples:>9}",
                  _line(self.macro), _line(self.weighted), "",
                  "most frequent confusions (annotated -> predicted):"]
        lines += [f"  {n:>3}  {a} -> {p}" for a, p, n in self.confusions[:confusions]] \
            or ["  none"]
        lines += ["", _header("entity")] + [_line(s) for s in self.entities]
        lines.append(_line(self.entities_micro))
        return "\n".join(lines)


def evaluate(test: TrainingData, parser: NluParser) -> Evaluation:
    """Parse every test sentence with the embedded NLU and score it."""
    predictions = [parser.parse(example.text) for example in test.examples]
    return score(test, [(p.intent, p.entities) for p in predictions],
                 with_catalog=len(parser.catalog_index) > 0)


def score(test: TrainingData, predictions: list[tuple[str | None, list[dict[str, Any]]]],
          with_catalog: bool) -> Evaluation:
    """Score each test sentence's (intent, entities) as predicted, by whichever backend."""
    outcomes: list[tuple[str, str]] = []  # (annotated, predicted) intent per sentence
    hits: Counter[str] = Counter()
    guessed: Counter[str] = Counter()
    wanted: Counter[str] = Counter()
    scored = {e.entity for x in test.examples for e in x.entities}
    if not with_catalog:
        scored -= CATALOG_ENTITIES
    for example, (intent, entities) in zip(test.examples, predictions, strict=True):
        outcomes.append((example.intent, intent or ""))
        gold = _gold(example, test.synonyms, scored)
        found = _found(entities, scored)
        for kind, value, span in found:
            guessed[kind] += 1
            match = next((g for g in gold if g[0] == kind and _same(g, (kind, value, span))),
                         None)
            if match is not None:
                hits[kind] += 1
                gold.remove(match)
        for x in example.entities:
            if x.entity in scored:
                wanted[x.entity] += 1
    right = Counter(t for t, p in outcomes if t == p)
    annotated, predicted = Counter(t for t, _ in outcomes), Counter(p for _, p in outcomes)
    intents = [_score(name, right[name], predicted[name], annotated[name])
               for name in sorted(annotated)]
    pairs = Counter((t, p) for t, p in outcomes if t != p)
    entities = [_score(k, hits[k], guessed[k], wanted[k]) for k in sorted(scored)]
    micro = _score("micro avg", sum(hits.values()), sum(guessed.values()),
                   sum(wanted.values()))
    accuracy = sum(right.values()) / max(len(outcomes), 1)
    return Evaluation(intents, accuracy, _average("macro avg", intents, weighted=False),
                      _average("weighted avg", intents, weighted=True),
                      [(a, p, n) for (a, p), n in pairs.most_common()], entities, micro,
                      len(outcomes))


def _gold(example: Example, synonyms: dict[str, str],
          scored: set[str]) -> list[tuple[str, str, tuple[int, int]]]:
    return [(e.entity, normalise(e.entity, e.value, synonyms), (e.start, e.end))
            for e in example.entities if e.entity in scored]


def _found(entities: list[dict[str, Any]],
           scored: set[str]) -> list[tuple[str, str, tuple[int, int]]]:
    """Predictions; several catalog names on one span ("which one?") count once."""
    found: list[tuple[str, str, tuple[int, int]]] = []
    for e in entities:
        kind, span = e["entity"], (e["start"], e["end"])
        if kind not in scored or (kind in CATALOG_ENTITIES and any(
                f[0] == kind and f[2][0] < span[1] and span[0] < f[2][1] for f in found)):
            continue
        found.append((kind, str(e["value"]), span))
    return found


def normalise(entity: str, value: str, synonyms: dict[str, str]) -> str:
    """An annotated value as the extractors would write it."""
    value = synonyms.get(value.strip().lower(), value).strip()
    if entity == "quantity":
        number = word_value(value)
        return str(number) if number is not None else value
    if entity == "order_id":
        return parse_number(value) or value
    if entity in ("price_min", "price_max"):
        return value.replace(",", ".")
    return value


def _same(gold: tuple[str, str, tuple[int, int]], found: tuple[str, str, tuple[int, int]]) -> bool:
    if gold[0] in CATALOG_ENTITIES:
        return gold[2][0] < found[2][1] and found[2][0] < gold[2][1]
    return gold[1] == found[1]


def _score(name: str, hits: int, guessed: int, wanted: int) -> Score:
    precision = hits / guessed if guessed else 0.0
    recall = hits / wanted if wanted else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(name, precision, recall, f1, wanted)


def _average(name: str, scores: list[Score], weighted: bool) -> Score:
    total = sum(s.support if weighted else 1 for s in scores) or 1
    means = [sum((s.support if weighted else 1) * getattr(s, f) for s in scores) / total
             for f in ("precision", "recall", "f1")]
    return Score(name, *means, sum(s.support for s in scores))


def side_by_side(left: Evaluation, right: Evaluation, names: tuple[str, str],
                 confusions: int = 5) -> str:
    """Two evaluations of the same test file in one table: precision, recall, F1 of each."""
    width = 26
    head = f"{'':<{width}}{names[0]:^30}   {names[1]:^30}"
    cols = f"{'precision':>10}{'recall':>10}{'f1':>10}"

    def rows(kind: str, a: list[Score], b: list[Score]) -> list[str]:
        other = {s.name: s for s in b}
        out = [head, f"{kind:<{width}}{cols} | {cols}{'support':>9}"]
        for s in a:
            t = other.get(s.name, Score(s.name, 0.0, 0.0, 0.0, s.support))
            out.append(f"{s.name:<{width}}{_figures(s)} | {_figures(t)}{s.support:>9}")
        return out

    lines = rows("intent", left.intents, right.intents)
    lines += ["", f"{'accuracy':<{width}}{'':>20}{left.accuracy:>10.3f} | {'':>20}"
              f"{right.accuracy:>10.3f}{left.examples:>9}"]
    lines += rows("", [left.macro, left.weighted], [right.macro, right.weighted])[2:]
    lines += [""] + rows("entity", left.entities + [left.entities_micro],
                         right.entities + [right.entities_micro])
    for name, evaluation in zip(names, (left, right), strict=True):
        lines += ["", f"{name}: most frequent confusions (annotated -> predicted):"]
        lines += [f"  {n:>3}  {a} -> {p}" for a, p, n in evaluation.confusions[:confusions]] \
            or ["  none"]
    return "\n".join(lines)


def _figures(s: Score) -> str:
    return f"{s.precision:>10.3f}{s.recall:>10.3f}{s.f1:>10.3f}"


def _header(kind: str) -> str:
    return f"{kind:<26}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"


def _line(s: Score) -> str:
    return f"{s.name:<26}{_figures(s)}{s.support:>9}"
