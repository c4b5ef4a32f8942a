"""Whose notification choices a chat or an order reads, decided in one place so that a
change made in the chat is the one the order's news and the nudges obey.

A chat shows and changes the linked account's choices, else its own (`chat:<digest>`).
A chat never acts on an `email:` holder: typing an address at checkout proves nothing
about its inbox. The `email:` holder is changed only through the signed link in a mail
and one-click unsubscribe (bot/notification_pages.py), where the inbox is proven.

An order's news reads its account's choices; a guest order's reads both the chat it was
placed from and its checkout email (`preferences.Choices.combined`: any off wins).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.crypto import Vault
from core.notifications.preferences import holder_for
from core.orders.models import Order


def of_order(vault: Vault, order: Order) -> list[str]:
    """Every holder whose choices an order's news obeys, the account's alone for an
    account order; for a guest's, its chat's then its email's (whichever exist)."""
    if order.user_id:
        return [f"user:{order.user_id}"]
    found = [holder_for(vault, chat_key=order.chat_key), holder_for(vault, email=order.email)]
    return [holder for holder in found if holder]


def of_chat_key(vault: Vault, *, user_id: int | None, chat_key: str | None) -> str:
    """The holder a chat's settings show and change, and its nudges read: the linked
    account's, else the chat's own."""
    holder = holder_for(vault, user_id=user_id, chat_key=chat_key)
    assert holder is not None  # a chat (or a cart) always has a key or an account
    return holder


async def of_chat(*, session: AsyncSession, vault: Vault, user_id: int | None,
                  chat_key: str) -> str:
    """The holder a chat's settings show and change (`of_chat_key`); async and given the
    session, as its callers are, should it ever need to read."""
    del session
    return of_chat_key(vault, user_id=user_id, chat_key=chat_key)


async def latest_shipped_to(*, session: AsyncSession, user_id: int | None,
                            chat_key: str) -> Order | None:
    """The shopper's latest order with a shipping address (the account's, else this
    chat's): where an SMS number can be offered from."""
    owner = Order.user_id == user_id if user_id else Order.chat_key == chat_key
    return await session.scalar(
        select(Order).where(owner, Order.shipping_sealed.is_not(None))
        .order_by(Order.id.desc()).limit(1))
