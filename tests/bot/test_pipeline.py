"""The turn pipeline: free text is understood before the chat's lock and transaction, so a
remote NLU (Rasa) holds neither while it thinks."""

import asyncio

from bot import bootstrap
from bot.demo import fill
from bot.messages import ChatRef, Incoming, Kind
from bot.sessions.store import DatabaseSessionStore
from bot.turn import Understanding
from core.chats.models import ChatSession
from core.clock import now

CHAT = ChatRef("web", "slow-nlu", "u1", "Ann")


class ThinkingNlu:
    """Asks for the chat's lock and writes to the database while it 'thinks', as a turn
    of the same chat or another would; both wait forever if the pipeline holds them."""

    def __init__(self, local, shop) -> None:
        self.local, self.shop, self.pipeline = local, shop, None
        self.calls = 0

    async def understand(self, text: str) -> Understanding:
        self.calls += 1
        async with asyncio.timeout(5):
            async with self.pipeline.locks.hold(CHAT.session_key):
                async with self.shop.transaction() as session:
                    session.add(ChatSession(key=f"other:{self.calls}", state={},
                                            updated_at=now(), expires_at=now()))
        return await self.local.understand(text)

    async def refresh_catalog(self, shop) -> None:
        await self.local.refresh_catalog(shop)


async def test_free_text_is_understood_outside_the_lock_and_the_transaction(shop, trained):
    await fill(shop)
    await trained.refresh_catalog(shop)
    nlu = ThinkingNlu(trained, shop)
    pipeline = bootstrap.pipeline(shop, nlu, DatabaseSessionStore())
    nlu.pipeline = pipeline
    replies = await pipeline.handle(Incoming(CHAT, Kind.TEXT, text="show me the teapots"))
    assert "Glass teapot" in "\n".join(r.text for r in replies)
    assert nlu.calls == 1  # once, not again inside the turn
    await pipeline.handle(Incoming(CHAT, Kind.ACTION, action="cart"))
    assert nlu.calls == 1  # buttons need no NLU
