"""The Rasa backend against recorded /model/parse answers, and its fallback."""

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
                 {"entity": "email", "value": "a@b.co", "start": 0, "end": 0,
                  "extractor": "DIETClassifier"}],
}


class Local:
    async def understand(self, text: str) -> Understanding:
        return Understanding("search_product", 0.5, [
            {"entity": "product", "value": "Blue mug", "id": 1, "start": 8, "end": 17},
            {"entity": "quantity", "value": "2", "start": 4, "end": 7}])


def rasa(handler) -> RasaNlu:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return RasaNlu("http://rasa:5005/", Local(), client=client)


async def test_rasa_classifies_and_the_catalog_stays_ours():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.read()))
        return httpx.Response(200, json=RECORDED)

    nlu = rasa(handler)
    understood = await nlu.understand("add two blue mugs")
    assert seen == [("/model/parse", b'{"text":"add two blue mugs"}')]
    assert (understood.intent, understood.confidence) == ("add_to_cart", 0.93)
    assert understood.ranking[1] == ("update_cart_quantity", 0.05)
    assert understood.first("product") == "Blue mug"
    assert understood.first("quantity") == "2"          # our number words, not Rasa's "two"
    assert understood.first("email") == "a@b.co"        # non-catalog entities from Rasa
    assert nlu.fallbacks == 0


async def test_a_dead_slow_or_confused_rasa_falls_back_to_the_embedded_nlu():
    def down(request):
        raise httpx.ConnectError("refused")

    def slow(request):
        raise httpx.ReadTimeout("slow")

    for handler in (down, slow, lambda r: httpx.Response(500, text="boom"),
                    lambda r: httpx.Response(200, json={"nonsense": True}),
                    lambda r: httpx.Response(200, text="not json")):
        nlu = rasa(handler)
        understood = await nlu.understand("add two blue mugs")
        assert understood.intent == "search_product"   # the embedded answer, unchanged
        assert nlu.fallbacks == 1
