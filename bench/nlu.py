"""NLU parse latency (p50/p99) and throughput with the demo catalog loaded; with RASA_URL
set, the same sentences through a Rasa server as the shop uses it (`RasaNlu`: HTTP to
/model/parse plus Chatcart's entity reading), and both backends' accuracy on the
held-back split (bot/nlu/data/test.yml)."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.nlu.catalog_index import CatalogIndex
from bot.nlu.embedded import DATA, EmbeddedNlu, build_embedded
from bot.nlu.evaluate import evaluate
from bot.nlu.rasa import RasaNlu
from bot.nlu.rasa_evaluate import evaluate_through_rasa
from bot.nlu.training_data import load_training_data
from core.demo.products import DEMO_PRODUCTS


def _trained() -> EmbeddedNlu:
    with tempfile.TemporaryDirectory() as folder:
        nlu = build_embedded(Path(folder) / "model.joblib")
    nlu.parser.catalog_index = CatalogIndex(
        products=[(n, str(p["name"])) for n, p in enumerate(DEMO_PRODUCTS)],
        synonyms=nlu.data.synonyms, known_words=nlu.data.vocabulary())
    return nlu


def _figures(prefix: str, timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {f"{prefix}_p50_ms": statistics.median(ordered) * 1000,
            f"{prefix}_p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
            f"{prefix}_parses_per_s": len(timings) / sum(timings)}


def measure(repeat: int = 5) -> dict[str, float]:
    nlu = _trained()
    test = load_training_data(DATA / "test.yml")
    timings = []
    for _ in range(repeat):
        for example in test.examples:
            started = time.perf_counter()
            nlu.parser.parse(example.text)
            timings.append(time.perf_counter() - started)
    return {**_figures("nlu", timings),
            "nlu_accuracy": evaluate(test, nlu.parser).accuracy}


async def measure_rasa(url: str, repeat: int = 3) -> dict[str, float]:
    """One sentence at a time, as a shopper's turn asks; fails if Rasa does not answer."""
    nlu = _trained()
    test = load_training_data(DATA / "test.yml")
    scored = await evaluate_through_rasa(test, url, nlu)
    rasa = RasaNlu(url, nlu, timeout=10)
    timings = []
    try:
        for _ in range(repeat):
            for example in test.examples:
                started = time.perf_counter()
                await rasa.understand(example.text)
                timings.append(time.perf_counter() - started)
    finally:
        await rasa.aclose()
    if rasa.fallbacks:
        raise RuntimeError(f"Rasa at {url} stopped answering: {rasa.last_error}")
    return {**_figures("rasa_nlu", timings), "rasa_nlu_accuracy": scored.accuracy}


def measure_rasa_sync(url: str) -> dict[str, float]:
    return asyncio.run(measure_rasa(url))
