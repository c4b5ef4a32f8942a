"""`RASA_URL`: a Rasa server classifies the intent; Chatcart still resolves the catalog.

Rasa answers `/model/parse`; its intent and ranking are used, while products, categories
and quantities come from the embedded NLU (it knows today's catalog). When Rasa is slow,
down or answers nonsense, the embedded NLU answers alone, and the fallback is counted.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from bot import logs
from bot.pipeline import Understander
from bot.turn import Understanding
from core.shop import Shop

log = logging.getLogger("chatcart.nlu.rasa")
CATALOG_ENTITIES = {"product", "category", "quantity"}


class RasaNlu:
    def __init__(self, url: str, local: Understander, timeout: float = 1.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self.endpoint = url.rstrip("/") + "/model/parse"
        self.local = local
        self.client = client or httpx.AsyncClient(timeout=timeout)
        self.fallbacks = 0

    async def understand(self, text: str) -> Understanding:
        local = await self.local.understand(text)
        try:
            response = await self.client.post(self.endpoint, json={"text": text})
            response.raise_for_status()
            parsed = _read(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as failure:
            self.fallbacks += 1
            logs.event(log, "nlu.rasa_fallback", logging.WARNING, error=type(failure).__name__,
                       fallbacks=self.fallbacks)
            return local
        intent, confidence, ranking, entities = parsed
        own = [e for e in entities if e.get("entity") not in CATALOG_ENTITIES]
        ours = [e for e in local.entities if e.get("entity") in CATALOG_ENTITIES or
                not any(o.get("entity") == e.get("entity") for o in own)]
        return Understanding(intent, confidence, ours + own, ranking)

    async def refresh_catalog(self, shop: Shop) -> None:
        await self.local.refresh_catalog(shop)

    async def aclose(self) -> None:
        await self.client.aclose()


def _read(body: Any) -> tuple[str | None, float, list[tuple[str, float]], list[dict[str, Any]]]:
    """Rasa's parse JSON, checked: anything else raises (and falls back)."""
    intent = body["intent"]
    name = intent.get("name")
    confidence = float(intent.get("confidence") or 0.0)
    if name is not None and not isinstance(name, str):
        raise TypeError("intent name")
    ranking = [(str(r["name"]), float(r["confidence"])) for r in body.get("intent_ranking", [])]
    entities = [dict(e) for e in body.get("entities", []) if isinstance(e, dict)]
    return name, confidence, ranking, entities
