"""Whose notification choices a chat or an order reads, decided in one place so that a
change made in the chat is the one the order's news obeys.

An order's news reads its account's choices, else those of the email given at checkout,
else the chat's. A chat shows and changes the linked account's, else those of the email of
the latest order placed from it (a guest's), else its own.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.crypto import Vault
from core.notifications.preferences import holder_for
from core.orders.models import Order


def of_order(vault: Vault, order: Order) -> str | None:
    return holder_for(vault, user_id=order.user_id, email=order.email,
                      chat_key=order.chat_key)


async def latest_order_with_email(*, session: AsyncSession, chat_key: str) -> Order | None:
    """The last order placed from this chat that gave an email address."""
    return await session.scalar(
        select(Order).where(Order.chat_key == chat_key, Order.email.is_not(None))
        .order_by(Order.id.desc()).limit(1))


async def of_chat(*, session: AsyncSession, vault: Vault, user_id: int | None,
                  chat_key: str) -> str:
    """The holder a chat's settings show and change."""
    if user_id:
        return f"user:{user_id}"
    order = await latest_order_with_email(session=session, chat_key=chat_key)
    holder = holder_for(vault, email=order.email if order else None, chat_key=chat_key)
    assert holder is not None  # a chat key always names one
    return holder


async def latest_shipped_to(*, session: AsyncSession, user_id: int | None,
                            chat_key: str) -> Order | None:
    """The shopper's latest order with a shipping address (the account's, else this
    chat's): where an SMS number can be offered from."""
    owner = Order.user_id == user_id if user_id else Order.chat_key == chat_key
    return await session.scalar(
        select(Order).where(owner, Order.shipping_sealed.is_not(None))
        .order_by(Order.id.desc()).limit(1))
