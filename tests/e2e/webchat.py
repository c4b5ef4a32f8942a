"""A web chat client for tests: talks to the real ASGI app through its JSON API, as
DESIGN.md says a client does: its first message carries no session, the answer's
"session" goes into every later message, and polls show it in the X-Chat-Session header.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.channels.chat_tokens import ChatTokens
from tests.conftest import SECRET


def chat_key(token: str, secret: str = SECRET) -> str:
    """The shop's name for the chat `token` opens (`web:<id>`), as the server derives it."""
    chat_id = ChatTokens(secret).chat_id(token)
    assert chat_id is not None, "not a token of this key"
    return f"web:{chat_id}"


class Shopper:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.session: str | None = None  # the token the server issued, once it has
        self.last: list[dict[str, Any]] = []

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self._post({"text": text})

    async def press(self, label: str) -> list[dict[str, Any]]:
        """Press the button with this label (or label prefix) on the last replies."""
        for reply in reversed(self.last):
            for button in reply["buttons"]:
                if button["label"] == label or button["label"].startswith(label):
                    return await self.act(button["action"])
        shown = [b["label"] for r in self.last for b in r["buttons"]]
        raise AssertionError(f"no button {label!r}; buttons were {shown}")

    async def act(self, action: str) -> list[dict[str, Any]]:
        return await self._post({"action": action})

    async def _post(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        if self.session is not None:
            body = {"session": self.session, **body}
        response = await self.client.post("/webchat/api/messages", json=body)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert self.session in (None, answer["session"]), "the chat went on under its token"
        self.session = answer["session"]
        self.last = answer["replies"]
        return self.last

    async def news(self, wait: float = 5) -> list[dict[str, Any]]:
        """What the bot sent on its own (a confirmation), waiting up to `wait` seconds."""
        assert self.session is not None, "a chat starts with a message"
        response = await self.client.get("/webchat/api/messages", params={"wait": wait},
                                         headers={"X-Chat-Session": self.session})
        assert response.status_code == 200, response.text
        return list(response.json()["replies"])

    @property
    def chat_key(self) -> str:
        """The shop's name for this chat (`web:<id>`: outbox, carts, chat state)."""
        assert self.session is not None, "a chat starts with a message"
        return chat_key(self.session)

    def payment_path(self) -> str:
        """The path of the one payment link on the last replies (the test page's)."""
        (link,) = [link for reply in self.last for link in reply["links"]]
        return urlsplit(link["url"]).path

    @property
    def text(self) -> str:
        return "\n".join(reply["text"] for reply in self.last)

    def buttons(self) -> list[str]:
        return [b["label"] for reply in self.last for b in reply["buttons"]]
