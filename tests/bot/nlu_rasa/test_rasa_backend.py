"""The Rasa backend against recorded /model/parse answers: Rasa's intent, Chatcart's
entities, and the fallback when Rasa is slow, down, confused or has no model."""

import logging
from typing import Any

import httpx

from bot.nlu.rasa import RasaNlu
from bot.turn import Understanding

RECORDED = {  # a real Rasa 3.6 answer's shape, trimmed
    "text": "add two blue mugs",
    "intent": {"name": "add_to_cart", "confidence": 0.93},
    "intent_ranking": [{"name": "add_to_cart", "confidence": 0.93},
                       {"name": "update_cart_quantity", "confidence": 0.05}],
    "entities": [{"entity": "quantity", "value": "two", "start": 4, "end": 7,
                  "extractor": "DIETClassifier"},
                 {"entity": "colour", "value": "blue", "start": 8, "end": 12,
                  "extractor": "DIETClassifier"}],
}


class Local:
    """The embedded NLU's two faces: a whole answer (the fallback), and entities read for
    an intent Rasa chose."""

    def __init__(self) -> None:
        self.asked_for: list[str | None] = []

    def recognises(self, text: str) -> bool:
        return "qwxz" not in text

    async def understand(self, text: str) -> Understanding:
        return Understanding("search_product", 0.5, [
            {"entity": "product", "value": "Blue mug", "id": 1, "start": 8, "end": 17}])

    def entities(self, text: str, intent: str | None) -> list[dict[str, Any]]:
        self.asked_for.append(intent)
        return [{"entity": "quantity", "value": "2", "start": 4, "end": 7},
                {"entity": "product", "value": "Blue mug", "id": 1, "start": 8, "end": 17}]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def rasa(handler, local: Local | None = None, clock: Clock | None = None) -> RasaNlu:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return RasaNlu("http://rasa:5005/", local or Local(), client=client, pause=15.0,
                   clock=clock or Clock())


async def test_rasa_classifies_and_the_entities_stay_ours():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.read()))
        return httpx.Response(200, json=RECORDED)

    local = Local()
    nlu = rasa(handler, local)
    understood = await nlu.understand("add two blue mugs")
    assert seen == [("/model/parse", b'{"text":"add two blue mugs"}')]
    assert (understood.intent, understood.confidence) == ("add_to_cart", 0.93)
    assert understood.ranking[1] == ("update_cart_quantity", 0.05)
    assert local.asked_for == ["add_to_cart"]            # read for Rasa's intent
    assert understood.first("product") == "Blue mug"
    assert understood.values("quantity") == [
        {"entity": "quantity", "value": "2", "start": 4, "end": 7}]  # ours, not Rasa's "two"
    assert understood.first("colour") == "blue"          # a kind only Rasa knows passes
    assert [e["start"] for e in understood.entities] == [4, 8, 8]
    assert (nlu.answered, nlu.fallbacks) == (1, 0)
    assert nlu.status() == {"backend": "rasa", "rasa_answering": True, "answered": 1,
                            "fallbacks": 0}


async def test_text_without_a_word_of_the_shop_gets_no_intent_whatever_rasa_guessed():
    class Unknown(Local):
        def entities(self, text: str, intent: str | None) -> list[dict[str, Any]]:
            return [] if "qwxz" in text else super().entities(text, intent)

    nlu = rasa(lambda r: httpx.Response(200, json={**RECORDED, "text": "qwxz"}), Unknown())
    understood = await nlu.understand("qwxz")
    assert (understood.intent, understood.confidence) == (None, 0.0)
    assert understood.ranking[0] == ("add_to_cart", 0.93)  # Rasa's guess, kept
    assert (nlu.answered, nlu.fallbacks) == (1, 0)
    # Nothing but an order number or a quantity is not gibberish: Rasa's intent stands.
    plain = await rasa(lambda r: httpx.Response(200, json=RECORDED)).understand("qwxz 2")
    assert plain.intent == "add_to_cart"


async def test_a_dead_slow_confused_or_modelless_rasa_falls_back_to_the_embedded_nlu():
    def down(request):
        raise httpx.ConnectError("refused")

    def slow(request):
        raise httpx.ReadTimeout("slow")

    no_model = {"text": "x", "intent": {"name": None, "confidence": 0.0}, "entities": []}
    for handler in (down, slow, lambda r: httpx.Response(500, text="boom"),
                    lambda r: httpx.Response(200, json={"nonsense": True}),
                    lambda r: httpx.Response(200, json=no_model),
                    lambda r: httpx.Response(200, json={"intent": {"name": 3}}),
                    lambda r: httpx.Response(200, text="not json")):
        nlu = rasa(handler)
        understood = await nlu.understand("add two blue mugs")
        assert understood.intent == "search_product"   # the embedded answer, unchanged
        assert nlu.fallbacks == 1 and nlu.last_error
        assert nlu.status()["rasa_answering"] is False


async def test_a_failed_rasa_is_left_alone_for_a_pause_then_tried_again(caplog):
    caplog.set_level(logging.INFO, logger="chatcart.nlu.rasa")
    calls = []
    answering = False

    def handler(request):
        calls.append(request)
        if not answering:
            raise httpx.ConnectTimeout("no answer")
        return httpx.Response(200, json=RECORDED)

    clock = Clock()
    nlu = rasa(handler, clock=clock)
    await nlu.understand("add two blue mugs")
    assert len(calls) == 1 and "nlu.rasa_unavailable" in caplog.text
    clock.now += 14.9
    for _ in range(3):  # within the pause: answered locally, Rasa not asked
        assert (await nlu.understand("add two blue mugs")).intent == "search_product"
    assert len(calls) == 1 and nlu.fallbacks == 4
    answering = True
    clock.now += 0.2
    assert (await nlu.understand("add two blue mugs")).intent == "add_to_cart"
    assert len(calls) == 2 and "nlu.rasa_back" in caplog.text
    assert nlu.status()["rasa_answering"] is True


async def test_long_text_is_cut_before_it_is_sent():
    sent = []

    def handler(request):
        sent.append(len(request.read()))
        return httpx.Response(200, json=RECORDED)

    await rasa(handler).understand("a" * 10_000)
    assert sent[0] < 4100
