"""Small builders for test data, going through the real services."""

from __future__ import annotations

import itertools

from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import service as accounts
from core.accounts.models import Role, User
from core.audit.actor import Actor, Channel
from core.carts import service as carts
from core.carts.models import Cart
from core.catalog import service as catalog
from core.catalog.models import Product

ADMIN = Actor.cli("tests")
SHOPPER = Actor(Channel.WEB, label="shopper")
CURRENCY = "EUR"
_serial = itertools.count(1)


async def product(
    session: AsyncSession, *, name: str = "Blue mug", price: int = 1250, stock: int = 10,
    category: str = "Kitchen > Mugs", sku: str | None = None, threshold: int = 2,
    description: str = "", attributes: dict[str, str] | None = None,
) -> Product:
    found = await catalog.ensure_category(session=session, path=category, actor=ADMIN)
    return await catalog.create_product(
        session=session, actor=ADMIN, sku=sku or f"SKU-{next(_serial)}", name=name,
        price_minor=price, currency=CURRENCY, category=found, description=description,
        attributes=attributes, stock=stock, low_stock_threshold=threshold)


async def user(session: AsyncSession, email: str | None = None, *,
               password: str = "correct horse battery", role: Role = Role.CUSTOMER) -> User:
    return await accounts.register(session=session, email=email or f"u{next(_serial)}@example.com",
                                   password=password, actor=ADMIN, role=role)


async def guest_cart(session: AsyncSession, key: str | None = None) -> Cart:
    return await carts.cart_for(session=session, currency=CURRENCY,
                                session_key=key or f"web:{next(_serial)}")
