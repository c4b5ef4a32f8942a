"""A web chat client for tests: talks to the real ASGI app through its JSON API."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

import httpx


class Shopper:
    def __init__(self, client: httpx.AsyncClient, session: str | None = None) -> None:
        self.client = client
        self.session = session or secrets.token_hex(8)
        self.last: list[dict[str, Any]] = []

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self._post({"session": self.session, "text": text})

    async def press(self, label: str) -> list[dict[str, Any]]:
        """Press the button with this label (or label prefix) on the last replies."""
        for reply in reversed(self.last):
            for button in reply["buttons"]:
                if button["label"] == label or button["label"].startswith(label):
                    return await self.act(button["action"])
        shown = [b["label"] for r in self.last for b in r["buttons"]]
        raise AssertionError(f"no button {label!r}; buttons were {shown}")

    async def act(self, action: str) -> list[dict[str, Any]]:
        return await self._post({"session": self.session, "action": action})

    async def _post(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.client.post("/webchat/api/messages", json=body)
        assert response.status_code == 200, response.text
        self.last = response.json()["replies"]
        return self.last

    async def news(self, wait: float = 5) -> list[dict[str, Any]]:
        """What the bot sent on its own (a confirmation), waiting up to `wait` seconds."""
        response = await self.client.get("/webchat/api/messages",
                                         params={"session": self.session, "wait": wait})
        assert response.status_code == 200, response.text
        return list(response.json()["replies"])

    def payment_path(self) -> str:
        """The path of the one payment link on the last replies (the test page's)."""
        (link,) = [link for reply in self.last for link in reply["links"]]
        return urlsplit(link["url"]).path

    @property
    def text(self) -> str:
        return "\n".join(reply["text"] for reply in self.last)

    def buttons(self) -> list[str]:
        return [b["label"] for reply in self.last for b in reply["buttons"]]
