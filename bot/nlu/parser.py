"""Text in, intent and entities out: the embedded NLU's one entry point.

The classifier and the catalog index are held, not owned: swap `catalog_index` when the
catalog changes (one attribute assignment, so a parse in flight sees the old or the new
index, never half of one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.nlu.catalog_index import CatalogIndex
from bot.nlu.classifier import IntentClassifier
from bot.nlu.entities import extract_entities

MAX_CHARS = 4000  # longer text is cut: the pipeline refuses it anyway, and cost grows with it
RANKING_SIZE = 10  # Rasa's intent_ranking length


@dataclass(frozen=True)
class ParseResult:
    text: str
    intent: str | None
    confidence: float
    ranking: list[tuple[str, float]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)

    def to_rasa_json(self) -> dict[str, Any]:
        """Exactly the shape of Rasa's POST /model/parse answer."""
        return {
            "text": self.text,
            "intent": {"name": self.intent, "confidence": self.confidence},
            "intent_ranking": [{"name": name, "confidence": confidence}
                               for name, confidence in self.ranking[:RANKING_SIZE]],
            "entities": [dict(e) for e in self.entities],
        }


class NluParser:
    def __init__(self, classifier: IntentClassifier,
                 catalog_index: CatalogIndex | None = None) -> None:
        self.classifier = classifier
        # Not `or`: an index without products is empty (falsy) yet holds synonyms and words.
        self.catalog_index = catalog_index if catalog_index is not None else CatalogIndex()

    def parse(self, text: str) -> ParseResult:
        """Never raises on odd input: empty text gets no intent and confidence 0."""
        clipped = (text or "")[:MAX_CHARS]
        if not clipped.strip():
            return ParseResult(text or "", None, 0.0)
        ranking = self.classifier.rank(clipped)
        intent, confidence = ranking[0]
        entities = extract_entities(clipped, self.catalog_index, intent)
        return ParseResult(text, intent, confidence, ranking, entities)
