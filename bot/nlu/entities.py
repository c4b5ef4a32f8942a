"""Entities in Rasa's shape: quantities, price bounds, order numbers, emails, catalog names.

Patterns go first and claim their characters, so the digits of "CC-7KX3MQ", "under 20"
or "tom2@example.com" are never read as quantities. The intent, when known, settles two
ambiguities: a cart sentence reads "from 2 to 3" as quantities and "mug" as a product,
a browsing sentence reads "mugs" as the section.
"""

from __future__ import annotations

import re
from typing import Any

from bot.nlu.catalog_index import CatalogIndex, CatalogMatch
from bot.nlu.numbers import find_numbers
from bot.nlu.prices import find_price_bounds
from core.orders.numbers import ALPHABET, parse_number

__all__ = ["CatalogIndex", "extract_entities", "find_emails", "find_order_ids"]

CART_INTENTS = frozenset({"add_to_cart", "update_cart_quantity", "remove_from_cart"})
PRODUCT_INTENTS = CART_INTENTS | {"product_details", "return_request", "cancel_order"}
CATEGORY_INTENTS = frozenset({"browse_catalog"})
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"(?<![\w.+-])[\w.+-]+@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,}}(?![\w-])")
_PREFIXED = re.compile(rf"(?<![\w-])#?CC[\s-]?[{ALPHABET}]{{6}}(?![\w-])", re.IGNORECASE)
_AFTER_ORDER = re.compile(
    rf"\border(?:\s+(?:number|no\.?|nr\.?|id|ref|reference))?[\s:#.]*(?<![\w-])"
    rf"(?P<code>[{ALPHABET}]{{6}})(?![\w-])", re.IGNORECASE)
_BARE = re.compile(rf"(?<![\w-])(?=[{ALPHABET}]*\d)(?=(?:[{ALPHABET}]*[A-Z]){{2}})"
                   rf"[{ALPHABET}]{{6}}(?![\w-])", re.IGNORECASE)
# Numbers that are not counts of a thing: prices, durations, and the number replaced
# in a correction ("3 not 2", "from three to two", "instead of 4").
_NOT_A_COUNT_AFTER = re.compile(
    r"\s?(?:€|\$|£|%|(?:euros?|eur|dollars?|usd|pounds?|gbp|quid|bucks|days?|weeks?|"
    r"months?|years?|hours?|hrs?|minutes?|mins?|orders?|am|pm)\b)", re.IGNORECASE)
_TO = re.compile(r"\s+(?:to|->|→)\s+$")
_REPLACED_BEFORE = re.compile(r"(?:\bnot|\binstead of|\brather than|[€$£])\s*$", re.IGNORECASE)

Span = tuple[int, int]


def find_emails(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _EMAIL.finditer(text)]


def find_order_ids(text: str, blocked: list[Span] | None = None) -> list[tuple[str, int, int]]:
    """ "cc-7kx3mq", "order 7KX3MQ", a bare "7kx3mq" -> "CC-7KX3MQ" with its span.

    Without the prefix, six valid characters after "order" need a digit or capitals
    ("order change" is a word); anywhere else a digit and two letters ("cancel XW3K9P").
    """
    found: list[tuple[str, int, int]] = []
    for m in _PREFIXED.finditer(text):
        if (value := parse_number(m.group())) and _free(m.span(), blocked or []):
            found.append((value, m.start(), m.end()))
    taken = [(s, e) for _, s, e in found] + (blocked or [])
    for m in _AFTER_ORDER.finditer(text):
        code = m["code"]
        looks_like_one = any(c.isdigit() for c in code) or code.isupper()
        if looks_like_one and _free(m.span("code"), taken) and (value := parse_number(code)):
            found.append((value, m.start("code"), m.end("code")))
            taken.append(m.span("code"))
    for m in _BARE.finditer(text):
        if _free(m.span(), taken) and (value := parse_number(m.group())):
            found.append((value, m.start(), m.end()))
    return sorted(found, key=lambda f: f[1])


def extract_entities(text: str, index: CatalogIndex | None = None,
                     intent: str | None = None) -> list[dict[str, Any]]:
    """Every entity in the text, left to right, as Rasa's /model/parse lists them."""
    entities: list[dict[str, Any]] = []
    emails = find_emails(text)
    for value, start, end in emails:
        entities.append(_entity("email", value, start, end, 1.0, "chatcart_patterns"))
    claimed: list[Span] = [(s, e) for _, s, e in emails]
    for value, start, end in find_order_ids(text, claimed):
        entities.append(_entity("order_id", value, start, end, 1.0, "chatcart_patterns"))
        claimed.append((start, end))
    for bound in find_price_bounds(text, claimed):
        if bound.strong or intent not in CART_INTENTS:
            entities.append(_entity(bound.entity, bound.value, bound.start, bound.end,
                                    1.0 if bound.strong else 0.8, "chatcart_prices"))
            claimed.append((bound.start, bound.end))
    matches: list[CatalogMatch] = []
    if index is not None and len(index):
        prefer = "product" if intent in PRODUCT_INTENTS else \
            "category" if intent in CATEGORY_INTENTS else None
        matches = index.match(text, prefer)
    numbers = find_numbers(text)
    for i, number in enumerate(numbers):
        if i + 1 < len(numbers) and _TO.match(text[number.end:numbers[i + 1].start]):
            continue  # "from 2 to 3": 2 is the old quantity
        span = (number.start, number.end)
        if _free(span, claimed + [(m.start, m.end) for m in matches]) \
                and not _NOT_A_COUNT_AFTER.match(text, number.end) \
                and not _REPLACED_BEFORE.search(text, 0, number.start):
            entities.append(_entity("quantity", str(number.value), *span, 1.0,
                                    "chatcart_numbers"))
    for m in matches:
        entities.append(_entity(m.entity, m.name, m.start, m.end, m.score, "chatcart_catalog")
                        | {"id": m.id})
    return sorted(entities, key=lambda e: (e["start"], -e["confidence_entity"]))


def _entity(entity: str, value: str, start: int, end: int, confidence: float,
            extractor: str) -> dict[str, Any]:
    return {"entity": entity, "value": value, "start": start, "end": end,
            "confidence_entity": confidence, "extractor": extractor}


def _free(span: Span, taken: list[Span]) -> bool:
    return all(span[1] <= s or span[0] >= e for s, e in taken)
