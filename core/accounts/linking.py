"""Linking a chat to an account: the guest's cart comes along, so nothing is lost."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import identities
from core.accounts.models import ChatIdentity, User
from core.audit.actor import Actor
from core.carts import service as carts
from core.carts.models import Cart
from core.carts.totals import CartView


async def link_and_merge(
    *, session: AsyncSession, identity: ChatIdentity, user: User, chat_session_key: str,
    currency: str, actor: Actor,
) -> tuple[Cart, CartView]:
    """Link `identity` to `user` and fold the chat session's guest cart into the account's."""
    await identities.link(session=session, identity=identity, user=user, actor=actor)
    guest_cart = await carts.cart_for(session=session, currency=currency,
                                      session_key=chat_session_key)
    account_cart = await carts.cart_for(session=session, currency=currency, user_id=user.id)
    merged = await carts.merge(session=session, source=guest_cart, target=account_cart,
                               actor=actor)
    return account_cart, merged
