"""The turn pipeline and a remote NLU (Rasa): free text is understood before the turn's
transaction, which does not wait on it; text for a dialog (an email) is not sent."""

import asyncio

from bot import bootstrap
from bot.messages import ChatRef, Incoming, Kind
from bot.sessions.store import DatabaseSessionStore
from bot.turn import Understanding
from core.chats.models import ChatSession
from core.clock import now
from tests.support.demo_copy import demo_filled

CHAT = ChatRef("web", "slow-nlu", "u1", "Ann")


class ThinkingNlu:
    """Remote, and writes to the database while it 'thinks', as another chat's turn
    would: that waits forever if the pipeline holds a transaction meanwhile."""

    remote = True

    def __init__(self, local, shop) -> None:
        self.local, self.shop = local, shop
        self.texts: list[str] = []

    async def understand(self, text: str) -> Understanding:
        self.texts.append(text)
        async with asyncio.timeout(5):
            async with self.shop.transaction() as session:
                session.add(ChatSession(key=f"other:{len(self.texts)}", state={},
                                        updated_at=now(), expires_at=now()))
        return await self.local.understand(text)

    async def refresh_catalog(self, shop) -> None:
        await self.local.refresh_catalog(shop)


async def test_free_text_is_understood_before_the_transaction(shop, trained):
    await demo_filled(shop)
    await trained.refresh_catalog(shop)
    nlu = ThinkingNlu(trained, shop)
    pipeline = bootstrap.pipeline(shop, nlu, DatabaseSessionStore())
    replies = await pipeline.handle(Incoming(CHAT, Kind.TEXT, text="show me the teapots"))
    assert "Glass teapot" in "\n".join(r.text for r in replies)
    assert nlu.texts == ["show me the teapots"]  # once, not again inside the turn
    await pipeline.handle(Incoming(CHAT, Kind.ACTION, action="cart"))
    assert nlu.texts == ["show me the teapots"]  # buttons need no NLU


async def test_text_for_a_dialog_is_not_sent_to_a_remote_nlu(shop, trained):
    class Recording:
        remote = True

        def __init__(self) -> None:
            self.texts: list[str] = []

        async def understand(self, text: str) -> Understanding:
            self.texts.append(text)
            return await trained.understand(text)

        async def refresh_catalog(self, shop) -> None:
            pass

    nlu = Recording()
    pipeline = bootstrap.pipeline(shop, nlu, DatabaseSessionStore())
    await pipeline.handle(Incoming(CHAT, Kind.COMMAND, text="/link"))
    replies = await pipeline.handle(Incoming(CHAT, Kind.TEXT, text="ann@example.com"))
    assert "code" in "\n".join(r.text for r in replies).lower()
    assert nlu.texts == []
