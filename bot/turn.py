"""Everything a handler may use during one turn, assembled once by the pipeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import Action
from bot.messages import Incoming
from bot.sessions.state import ChatState
from core.accounts.identities import Seen
from core.accounts.models import ChatIdentity
from core.audit.actor import Actor, Channel
from core.carts import service as carts
from core.carts.models import Cart
from core.shop import Shop


@dataclass(frozen=True, slots=True)
class Understanding:
    """What the NLU made of a text: an intent, its confidence, entities (Rasa's shape)."""

    intent: str | None
    confidence: float
    entities: list[dict[str, Any]] = field(default_factory=list)
    ranking: list[tuple[str, float]] = field(default_factory=list)

    def values(self, entity: str) -> list[dict[str, Any]]:
        return [e for e in self.entities if e.get("entity") == entity]

    def to_rasa_json(self, text: str) -> dict[str, Any]:
        """Rasa's /model/parse shape (DESIGN.md), whichever backend understood."""
        return {"text": text,
                "intent": {"name": self.intent, "confidence": self.confidence},
                "intent_ranking": [{"name": n, "confidence": c} for n, c in self.ranking[:10]],
                "entities": [dict(e) for e in self.entities]}

    def first(self, entity: str) -> str | None:
        found = self.values(entity)
        return str(found[0]["value"]) if found else None


@dataclass
class Turn:
    msg: Incoming
    session: AsyncSession
    shop: Shop
    state: ChatState
    seen: Seen
    action: Action | None = None
    understood: Understanding | None = None
    handoff_id: int | None = None   # a request for a person opened or found this turn
    # Side effects outside the database (mail), run only once the turn has committed.
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _cart: tuple[tuple[int | None, str | None], Cart] | None = None
    _identity: ChatIdentity | None = None

    @property
    def user_id(self) -> int | None:
        """The account this chat is linked to, also once linked or unlinked this turn."""
        return self._identity.user_id if self._identity is not None else self.seen.user_id

    async def identity(self) -> ChatIdentity:
        """The chat's identity as an ORM object, for the handlers that change it (link,
        unlink); every other turn reads only `seen`."""
        if self._identity is None:
            self._identity = await self.session.get(ChatIdentity, self.seen.identity_id)
            assert self._identity is not None
        return self._identity

    @property
    def actor(self) -> Actor:
        try:
            channel = Channel(self.msg.chat.platform)
        except ValueError:
            channel = Channel.WEB
        return Actor(channel, user_id=self.user_id, identity_id=self.seen.identity_id,
                     label=self.msg.chat.display_name[:120])

    @property
    def currency(self) -> str:
        return self.shop.settings.shop_currency

    async def cart(self) -> Cart:
        """The account's cart when linked, else this chat's: locked and loaded once a turn
        (a chat linked to an account during the turn gets the account's)."""
        owner = (self.user_id, None if self.user_id else self.msg.chat.session_key)
        # Read again after a savepoint rolled back (a refused payment undoes the emptied
        # cart): SQLAlchemy expired the object, and an expired one cannot load lazily.
        if (self._cart is None or self._cart[0] != owner
                or inspect(self._cart[1]).expired_attributes):
            self._cart = owner, await carts.cart_for(
                session=self.session, currency=self.currency, user_id=owner[0],
                session_key=owner[1], lock=True)
        return self._cart[1]
