"""Scoring the Rasa backend on a test file, as the shop would use it (`RasaNlu`).

Intents are scored on Rasa's best guess (the top of its ranking), as the embedded NLU is
scored on its own: before the shop's confidence threshold, and before the rules with
which `RasaNlu` sets aside text in no known words and intents without a handler.
Entities are what `RasaNlu` hands the handlers.

A sentence Rasa did not answer would be scored as the embedded NLU's guess, so one
unanswered sentence stops the evaluation: its figures would not be Rasa's.
"""

from __future__ import annotations

from bot.nlu.embedded import EmbeddedNlu
from bot.nlu.evaluate import Evaluation, score
from bot.nlu.rasa import RasaNlu
from bot.nlu.training_data import TrainingData


class RasaUnavailable(Exception):
    pass


async def evaluate_through_rasa(test: TrainingData, url: str, embedded: EmbeddedNlu,
                                wait_seconds: float = 10.0) -> Evaluation:
    rasa = RasaNlu(url, embedded, timeout=wait_seconds)
    predictions = []
    try:
        for example in test.examples:
            understood = await rasa.understand(example.text)
            if rasa.fallbacks:
                raise RasaUnavailable(
                    f"Rasa at {url} did not answer {example.text!r} ({rasa.last_error}). "
                    "Is it running with a trained model? `make rasa` starts one.")
            guess = understood.ranking[0][0] if understood.ranking else understood.intent
            predictions.append((guess, understood.entities))
    finally:
        await rasa.aclose()
    return score(test, predictions, with_catalog=len(embedded.parser.catalog_index) > 0)
