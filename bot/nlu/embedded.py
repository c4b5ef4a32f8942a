"""The embedded NLU as the pipeline sees it: trained (or loaded) once, catalog kept current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.nlu.catalog_index import CatalogIndex
from bot.nlu.entities import extract_entities
from bot.nlu.parser import MAX_CHARS, NluParser
from bot.nlu.saved_model import load_or_train
from bot.nlu.stems import stems
from bot.nlu.training_data import TrainingData, load_training_data
from bot.turn import Understanding
from core.catalog.models import Category, Product, ProductStatus
from core.shop import Shop

DATA = Path(__file__).parent / "data"


class EmbeddedNlu:
    def __init__(self, parser: NluParser, data: TrainingData) -> None:
        self.parser = parser
        self.data = data
        self._intents = frozenset(data.intents)  # asked on every message Rasa classifies
        # Entity words too ("flask", "decaf"): named things are the shop's language.
        self._named = {word for x in data.examples for e in x.entities
                       for word, _, _ in stems(x.text[e.start:e.end])}
        self._named |= {word for values in data.lookups.values() for value in values
                        for word, _, _ in stems(value)}

    async def understand(self, text: str) -> Understanding:
        result = self.parser.parse(text)
        return Understanding(result.intent, result.confidence, list(result.entities),
                             list(result.ranking))

    def entities(self, text: str, intent: str | None) -> list[dict[str, Any]]:
        """Entities read for an intent another classifier chose (Rasa)."""
        return extract_entities(text[:MAX_CHARS], self.parser.catalog_index, intent)

    def recognises(self, text: str) -> bool:
        """Whether the text speaks the shop's language (`CatalogIndex.recognises`), the
        training data's named things counting too: "asdf qwer" does not, whatever a
        classifier makes of it."""
        text = text[:MAX_CHARS]
        return any(word in self._named for word, _, _ in stems(text)) or \
            self.parser.catalog_index.recognises(text)

    def intent_names(self) -> frozenset[str]:
        return self._intents

    def status(self) -> dict[str, object]:
        return {"backend": "embedded"}

    async def refresh_catalog(self, shop: Shop) -> None:
        """Teach entity recognition today's product and category names."""
        async with shop.sessions() as session:
            products = (await session.execute(
                select(Product.id, Product.name).where(Product.status == ProductStatus.ACTIVE)
            )).all()
            categories = (await session.execute(select(Category.id, Category.name))).all()
        self.parser.catalog_index = CatalogIndex(
            products=[(row.id, row.name) for row in products],
            categories=[(row.id, row.name) for row in categories],
            synonyms=self.data.synonyms, known_words=self.data.vocabulary())


def build_embedded(model_path: Path) -> EmbeddedNlu:
    """Load the saved model when it matches the training data, else train and save it."""
    data = load_training_data(DATA / "nlu.yml")
    classifier = load_or_train(model_path, data.examples)
    index = CatalogIndex(synonyms=data.synonyms, known_words=data.vocabulary())
    return EmbeddedNlu(NluParser(classifier, index), data)
