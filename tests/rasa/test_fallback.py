"""Rasa hangs, comes back, then dies, all mid-conversation: the shopper is answered every
time, the embedded NLU standing in (logged, counted, shown on /healthz), and no message
waits on Rasa while it is being left alone."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from bot.nlu.embedded import build_embedded
from bot.nlu.rasa import RasaNlu
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper
from tests.support.rasa import RasaServer

TIMEOUT, PAUSE = 1.0, 3.0


async def timed(shopper: Shopper, text: str) -> float:
    started = time.monotonic()
    await shopper.say(text)
    return time.monotonic() - started


async def test_a_hung_then_dead_rasa_mid_conversation_leaves_the_shopper_answered(
        rasa_project: Path, settings, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="chatcart.nlu.rasa")
    server = RasaServer(rasa_project, tmp_path / "rasa.log")
    nlu = RasaNlu(server.url, build_embedded(tmp_path / "model.joblib"), timeout=TIMEOUT,
                  pause=PAUSE)
    try:
        async with served(settings, nlu) as client:
            await nlu.refresh_catalog(client.shop)
            dee = Shopper(client)
            await dee.say("show me the teapots")
            assert "Glass teapot" in dee.text
            assert (nlu.answered, nlu.fallbacks) == (1, 0)

            server.pause()  # accepts the connection, never answers
            assert await timed(dee, "add the glass teapot") < TIMEOUT + 2
            assert "Added 1 × Glass teapot." in dee.text
            assert nlu.fallbacks == 1
            assert "nlu.rasa_unavailable" in caplog.text
            # Left alone now: the next message does not wait out another timeout.
            assert await timed(dee, "what's in my cart") < TIMEOUT
            assert "1 × Glass teapot" in dee.text
            assert nlu.fallbacks == 2
            health = (await client.get("/healthz")).json()
            assert health["status"] == "ok"
            assert {k: health["nlu"][k] for k in ("backend", "rasa_answering", "answered",
                                                  "fallbacks")} == \
                {"backend": "rasa", "rasa_answering": False, "answered": 1, "fallbacks": 2}
            assert "Timeout" in health["nlu"]["last_error"]

            server.resume()
            await asyncio.sleep(PAUSE + 0.5)
            await dee.say("make it 2")
            assert "Glass teapot: now 2." in dee.text
            assert (nlu.answered, nlu.fallbacks) == (2, 2)
            assert "nlu.rasa_back" in caplog.text

            server.stop()  # killed mid-conversation
            await dee.say("remove the teapot")
            assert "Removed Glass teapot." in dee.text
            assert (nlu.answered, nlu.fallbacks) == (2, 3)
            assert (await client.get("/healthz")).json()["nlu"]["rasa_answering"] is False
    finally:
        server.stop()
        await nlu.aclose()
