"""The Rasa backend against recorded /model/parse answers: Rasa's intent, Chatcart's
entities, and the fallback when Rasa is slow, down, confused or has no model."""

import asyncio
import json
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

    def intent_names(self) -> frozenset[str]:
        return frozenset({"add_to_cart", "update_cart_quantity", "search_product"})

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
                            "fallbacks": 0, "last_error": None}


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


async def test_a_dead_hung_failing_or_modelless_rasa_falls_back_and_is_left_alone():
    def down(request):
        raise httpx.ConnectError("refused")

    def hung(request):
        raise httpx.ReadTimeout("slow")

    for handler in (down, hung, lambda r: httpx.Response(500, text="boom"),
                    lambda r: httpx.Response(409, json={"message": "No model loaded"})):
        nlu = rasa(handler)
        assert nlu.status()["rasa_answering"] is None  # not asked yet
        understood = await nlu.understand("add two blue mugs")
        assert understood.intent == "search_product"   # the embedded answer, unchanged
        assert nlu.fallbacks == 1 and nlu.last_error
        assert nlu.status()["rasa_answering"] is False


ODD_ANSWERS = [{"nonsense": True}, {"intent": None}, {"intent": "greet"}, {"intent": []},
               {"intent": {"name": None, "confidence": 0.0}}, {"intent": {"name": 3}},
               {"intent": {"name": "add_to_cart", "confidence": float("nan")}},
               {"intent": {"name": "add_to_cart", "confidence": 7}}, [1, 2], "text", None]


async def test_an_odd_answer_for_one_text_falls_back_for_that_text_only():
    answers = [httpx.Response(200, content=json.dumps(body).encode(),  # NaN as Rasa could
                              headers={"content-type": "application/json"})
               for body in ODD_ANSWERS]
    answers += [httpx.Response(200, text="not json"), httpx.Response(400, text="bad text")]
    for response in answers:
        nlu = rasa(lambda r, response=response: response)
        understood = await nlu.understand("add two blue mugs")
        assert understood.intent == "search_product", response.content
        assert nlu.fallbacks == 1
        assert nlu.status()["rasa_answering"] is not False  # Rasa is up: not left alone


async def test_odd_entities_and_rankings_are_dropped_not_crashed_on():
    body = {**RECORDED, "intent_ranking": [{"name": 3}, "x", {"name": "add_to_cart",
                                                                 "confidence": 0.9}],
            "entities": [{"entity": "colour", "value": "blue", "start": None, "end": 3},
                         {"entity": "colour", "value": "blue", "start": "8", "end": 12},
                         {"entity": "colour", "value": "blue", "start": 8, "end": 12}, 5]}
    understood = await rasa(lambda r: httpx.Response(200, json=body)).understand("add x")
    assert understood.ranking == [("add_to_cart", 0.9)]
    assert len(understood.values("colour")) == 1


async def test_blank_text_is_not_sent_and_unknown_intents_get_none():
    sent = []

    def handler(request):
        sent.append(request)
        return httpx.Response(200, json={**RECORDED, "intent": {"name": "chitchat",
                                                                "confidence": 0.99}})

    nlu = rasa(handler)
    await nlu.understand("   ")
    assert sent == []
    understood = await nlu.understand("add two blue mugs")
    assert (understood.intent, understood.confidence) == (None, 0.0)  # no handler for it
    assert nlu.fallbacks == 0


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


async def test_after_the_pause_one_message_probes_a_hung_rasa_and_the_others_do_not_wait():
    calls = []
    release = asyncio.Event()

    async def hung(request):
        calls.append(request)
        await release.wait()
        raise httpx.ReadTimeout("slow")

    clock = Clock()
    nlu = RasaNlu("http://rasa:5005", Local(), client=httpx.AsyncClient(
        transport=httpx.MockTransport(hung)), pause=15.0, clock=clock)
    first = asyncio.create_task(nlu.understand("add two blue mugs"))
    await asyncio.sleep(0)
    release.set()
    await first
    clock.now += 16
    release.clear()
    probe = asyncio.create_task(nlu.understand("add two blue mugs"))
    await asyncio.sleep(0.01)
    others = await asyncio.wait_for(asyncio.gather(
        *(nlu.understand("add two blue mugs") for _ in range(20))), 1)
    assert all(u.intent == "search_product" for u in others)
    assert len(calls) == 2  # the first failure and the one probe
    release.set()
    await probe


async def test_with_the_real_embedded_nlu_only_text_in_no_language_loses_rasas_intent(trained):
    answer = {**RECORDED, "entities": []}
    nlu = RasaNlu("http://rasa:5005", trained, client=httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=answer))))
    for text in ("7", "zq@qq.cn", "XQ4Z7P", "no", "chekout pls", "add two blue mugs"):
        assert (await nlu.understand(text)).intent == "add_to_cart", text
    for text in ("the asdf", "qwxz vbnm plokij", "asdf is qwer"):
        assert (await nlu.understand(text)).intent is None, text
