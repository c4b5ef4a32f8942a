"""NLU parse latency (p50/p99) and throughput with the demo catalog loaded."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bot.nlu.catalog_index import CatalogIndex
from bot.nlu.embedded import DATA, build_embedded
from bot.nlu.training_data import load_training_data
from core.demo.products import DEMO_PRODUCTS


def measure(repeat: int = 5) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        nlu = build_embedded(Path(folder) / "model.joblib")
    nlu.parser.catalog_index = CatalogIndex(
        products=[(n, str(p["name"])) for n, p in enumerate(DEMO_PRODUCTS)],
        synonyms=nlu.data.synonyms, known_words=nlu.data.vocabulary())
    texts = [example.text for example in load_training_data(DATA / "test.yml").examples]
    timings = []
    for _ in range(repeat):
        for text in texts:
            started = time.perf_counter()
            nlu.parser.parse(text)
            timings.append(time.perf_counter() - started)
    ordered = sorted(timings)
    return {"nlu_p50_ms": statistics.median(ordered) * 1000,
            "nlu_p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
            "nlu_parses_per_s": len(timings) / sum(timings)}
