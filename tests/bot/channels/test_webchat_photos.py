"""The web chat's photo upload answers in the same bubbles as its messages."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from bot.channels.webchat import TEXT_LIMIT, Gate, webchat_router
from bot.messages import Button, Incoming, Reply
from tests.conftest import make_settings


class LongWinded:
    """The pipeline's face, answering every upload with one reply over a bubble's size."""

    def __init__(self) -> None:
        self.heard: list[Incoming] = []

    async def handle(self, incoming: Incoming) -> list[Reply]:
        self.heard.append(incoming)
        return [Reply("A photo of the mug. " * 300, buttons=((Button("Done", "retdone"),),))]


async def test_a_long_answer_to_a_photo_comes_in_bubbles_like_any_other(tmp_path: Path):
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", tmp_path)
    app = FastAPI()
    app.include_router(webchat_router())
    app.state.webchat_gate = gate = Gate(settings)
    app.state.pipeline = pipeline = LongWinded()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        answer = await client.post("/webchat/api/photos", content=b"\x89PNG...",
                                   headers={"X-Chat-Session": gate.tokens.issue(),
                                            "Content-Type": "image/png"})
    assert answer.status_code == 200, answer.text
    bubbles = answer.json()["replies"]
    assert len(pipeline.heard) == 1 and pipeline.heard[0].action == "retphoto"
    assert len(bubbles) == 2 and all(len(b["text"]) <= TEXT_LIMIT for b in bubbles)
    assert bubbles[0]["buttons"] == [] and bubbles[-1]["buttons"], "buttons on the last"
