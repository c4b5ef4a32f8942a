"""`RASA_URL`: a Rasa server classifies the intent; Chatcart still resolves the entities.

Rasa answers `/model/parse`; its intent and ranking are used. Entities come from
Chatcart's own extractors, told Rasa's intent: they know today's catalog, read number
words and normalise prices and order numbers the way the handlers expect. Entity kinds
only a team's Rasa project knows pass through as Rasa found them.

Text with no word of the shop's language and nothing Chatcart's extractors read ("asdf
qwer") gets no intent, whatever Rasa guessed: its classifier is sure of something for any
text (measured: "asdf" -> affirm 0.86, "purple monkey" -> product_details 0.88), while
the shopper should hear that they were not understood. Rasa's ranking is kept.

When Rasa is slow, down or answers nonsense, the embedded NLU answers alone: the failure
is logged and counted, and Rasa is left alone for `pause` seconds, so while it is dead
no shopper waits on a timeout. The first message after the pause tries it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from bot import logs
from bot.turn import Understanding
from core.shop import Shop

log = logging.getLogger("chatcart.nlu.rasa")
# What Chatcart's extractors find (bot/nlu/entities.py); Rasa's own finds of these are ignored.
OURS = frozenset({"product", "category", "quantity", "price_min", "price_max", "order_id",
                  "email"})
MAX_CHARS = 4000


class LocalNlu(Protocol):
    """The embedded NLU: the fallback, and the entity extractors for Rasa's intent."""

    async def understand(self, text: str) -> Understanding: ...

    def entities(self, text: str, intent: str | None) -> list[dict[str, Any]]: ...

    def recognises(self, text: str) -> bool: ...

    async def refresh_catalog(self, shop: Shop) -> None: ...


class RasaNlu:
    def __init__(self, url: str, local: LocalNlu, timeout: float = 1.0, pause: float = 15.0,
                 client: httpx.AsyncClient | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url.rstrip("/")
        self.endpoint = self.url + "/model/parse"
        self.local = local
        self.client = client or httpx.AsyncClient(timeout=timeout)
        self.pause = pause
        self.clock = clock
        self.answered = 0
        self.fallbacks = 0
        self.last_error: str | None = None
        self._resume_at: float | None = None  # set while Rasa is being left alone

    async def understand(self, text: str) -> Understanding:
        text = text[:MAX_CHARS]
        if self._resume_at is not None and self.clock() < self._resume_at:
            self.fallbacks += 1
            return await self.local.understand(text)
        try:
            response = await self.client.post(self.endpoint, json={"text": text})
            response.raise_for_status()
            intent, confidence, ranking, entities = _read(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as failure:
            self.fallbacks += 1
            self._resume_at = self.clock() + self.pause
            self.last_error = f"{type(failure).__name__}: {str(failure)[:200]}"
            logs.event(log, "nlu.rasa_unavailable", logging.WARNING, error=self.last_error,
                       retry_in_s=self.pause, fallbacks=self.fallbacks)
            return await self.local.understand(text)
        if self._resume_at is not None:
            self._resume_at = None
            logs.event(log, "nlu.rasa_back", fallbacks=self.fallbacks)
        self.answered += 1
        ours = self.local.entities(text, intent)
        if not ours and not self.local.recognises(text):
            intent, confidence = None, 0.0  # an order number or an email alone is understood
        theirs = [e for e in entities if e.get("entity") not in OURS]
        return Understanding(intent, confidence,
                             sorted(ours + theirs, key=lambda e: e.get("start", 0)), ranking)

    def status(self) -> dict[str, object]:
        """For /healthz: which backend, whether Rasa is answering, how often it did not."""
        return {"backend": "rasa", "rasa_answering": self._resume_at is None,
                "answered": self.answered, "fallbacks": self.fallbacks}

    async def refresh_catalog(self, shop: Shop) -> None:
        await self.local.refresh_catalog(shop)

    async def aclose(self) -> None:
        await self.client.aclose()


def _read(body: Any) -> tuple[str | None, float, list[tuple[str, float]], list[dict[str, Any]]]:
    """Rasa's parse JSON, checked: anything else raises (and falls back). The pipeline
    sends no empty text, so a missing intent means Rasa has no model to answer with."""
    intent = body["intent"]
    name = intent.get("name")
    confidence = float(intent.get("confidence") or 0.0)
    if not isinstance(name, str) or not name:
        raise ValueError("no intent (is a model loaded?)")
    ranking = [(str(r["name"]), float(r["confidence"])) for r in body.get("intent_ranking", [])]
    entities = [dict(e) for e in body.get("entities", []) if isinstance(e, dict)]
    return name, confidence, ranking, entities
