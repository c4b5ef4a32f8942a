"""`RASA_URL`: a Rasa server classifies the intent; Chatcart still resolves the entities.

Rasa answers `/model/parse`; its intent and ranking are used. Entities come from
Chatcart's own extractors, told Rasa's intent: they know today's catalog, read number
words and normalise prices and order numbers the way the handlers expect. Entity kinds
only a team's Rasa project knows pass through as Rasa found them.

Text that does not speak the shop's language ("asdf qwer", see
`CatalogIndex.recognises`) and holds nothing Chatcart's extractors read gets no intent,
whatever Rasa guessed: its classifier is sure of something for any text (measured: "asdf"
-> affirm 0.86, "lorem ipsum dolor" -> search_product 0.64), while the shopper should hear
that they were not understood. So does an intent Chatcart has no handler for (a team's
own, or Rasa's `nlu_fallback`). Rasa's ranking is kept either way.

When Rasa is down, hung, failing (5xx) or has no model (409), the embedded NLU answers,
the failure is logged and counted, and Rasa is left alone for `pause` seconds, so no
shopper waits on a dead service; then one message tries it again while the others keep
the embedded answer. An answer Rasa could not give for one text (a 4xx, odd JSON) or a
moment when every connection to it is busy falls back for that message only.
"""

from __future__ import annotations

import logging
import math
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

    def intent_names(self) -> frozenset[str]: ...

    async def refresh_catalog(self, shop: Shop) -> None: ...


class RasaNlu:
    remote = True  # the pipeline asks before the turn's transaction, not within it

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
        if not text.strip():
            return await self.local.understand(text)  # nothing to classify
        if self._resume_at is not None:
            if self.clock() < self._resume_at:
                self.fallbacks += 1
                return await self.local.understand(text)
            self._resume_at = self.clock() + self.pause  # this message probes, alone
        try:
            response = await self.client.post(self.endpoint, json={"text": text})
        except httpx.PoolTimeout as busy:  # alive, but every connection is in use
            return await self._fallback(text, busy, pause=False)
        except Exception as failure:  # noqa: BLE001 - refused, timed out, bad address
            return await self._fallback(text, failure, pause=True)
        if response.status_code >= 500 or response.status_code == 409:  # 409: no model
            return await self._fallback(text, f"HTTP {response.status_code}", pause=True)
        self._back()
        try:
            response.raise_for_status()
            intent, confidence, ranking, entities = _read(response.json())
        except Exception as failure:  # noqa: BLE001 - this text's answer only
            return await self._fallback(text, failure, pause=False)
        self.answered += 1
        if intent not in self.local.intent_names():
            intent, confidence = None, 0.0
        ours = self.local.entities(text, intent)
        if not ours and not self.local.recognises(text):
            intent, confidence = None, 0.0  # an order number or an email alone is understood
        theirs = [e for e in entities if e["entity"] not in OURS]
        return Understanding(intent, confidence,
                             sorted(ours + theirs, key=lambda e: e["start"]), ranking)

    async def _fallback(self, text: str, failure: object, pause: bool) -> Understanding:
        self.fallbacks += 1
        self.last_error = (f"{type(failure).__name__}: {str(failure)[:200]}"
                           if isinstance(failure, BaseException) else str(failure))
        if pause:
            self._resume_at = self.clock() + self.pause
        logs.event(log, "nlu.rasa_unavailable" if pause else "nlu.rasa_no_answer",
                   logging.WARNING, error=self.last_error,
                   retry_in_s=self.pause if pause else 0, fallbacks=self.fallbacks)
        return await self.local.understand(text)

    def _back(self) -> None:
        if self._resume_at is not None:
            self._resume_at = None
            logs.event(log, "nlu.rasa_back", fallbacks=self.fallbacks)

    def status(self) -> dict[str, object]:
        """For /healthz: which backend, whether Rasa is answering (None: not asked yet),
        how often it answered and did not, and its last failure."""
        answering = False if self._resume_at is not None else (
            True if self.answered else None)
        return {"backend": "rasa", "rasa_answering": answering, "answered": self.answered,
                "fallbacks": self.fallbacks, "last_error": self.last_error}

    async def refresh_catalog(self, shop: Shop) -> None:
        await self.local.refresh_catalog(shop)

    async def aclose(self) -> None:
        await self.client.aclose()


def _read(body: Any) -> tuple[str, float, list[tuple[str, float]], list[dict[str, Any]]]:
    """Rasa's parse JSON, checked: anything else raises (and falls back). The pipeline
    sends no empty text, so an answer without an intent is no answer."""
    intent = body.get("intent") if isinstance(body, dict) else None
    if not isinstance(intent, dict) or not isinstance(intent.get("name"), str) \
            or not intent["name"]:
        raise ValueError("no intent in the answer")
    ranking = [(r["name"], _probability(r.get("confidence")))
               for r in _list(body.get("intent_ranking"))
               if isinstance(r, dict) and isinstance(r.get("name"), str)]
    entities = [dict(e) for e in _list(body.get("entities")) if isinstance(e, dict)
                and isinstance(e.get("entity"), str) and _offset(e.get("start"))
                and _offset(e.get("end"))]
    return intent["name"], _probability(intent.get("confidence")), ranking, entities


def _probability(value: object) -> float:
    number = float(value) if isinstance(value, int | float) else math.nan
    if not 0.0 <= number <= 1.0:  # NaN fails too
        raise ValueError(f"confidence {value!r}")
    return number


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _offset(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
