"""Placing an order from a checked cart: totals with shipping and tax, addresses sealed,
the chat it came from kept for confirmations, and the address remembered for next time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.actor import Actor
from core.carts import service as carts
from core.carts.models import Cart
from core.checkout import shipping
from core.checkout.addresses import Address
from core.checkout.models import SavedAddress
from core.clock import now
from core.crypto import Vault
from core.orders import service as orders
from core.orders.models import Order

MAX_SAVED = 5


@dataclass(frozen=True, slots=True)
class Details:
    shipping: Address
    method: str
    billing: Address | None = None     # None: the same as shipping
    email: str | None = None


async def quote(*, session: AsyncSession, cart: Cart, method: str,
                tax_basis_points: int) -> shipping.Totals:
    view = await carts.view(session=session, cart=cart)
    chosen = shipping.method(method, view.subtotal.amount)
    return shipping.totals(view.subtotal.amount, chosen, tax_basis_points, view.currency)


async def place(*, session: AsyncSession, cart: Cart, details: Details, vault: Vault,
                secret_key: str, actor: Actor, chat_key: str, reservation_minutes: int,
                tax_basis_points: int, expected_total_minor: int) -> Order:
    """The order, awaiting payment with its stock held; refused if the total moved."""
    totals = await quote(session=session, cart=cart, method=details.method,
                         tax_basis_points=tax_basis_points)
    user_id = cart.user_id
    order = await orders.place_order(
        session=session, cart=cart, actor=actor, reservation_minutes=reservation_minutes,
        email=details.email, expected_total_minor=expected_total_minor,
        shipping_minor=totals.shipping_minor, tax_minor=totals.tax_minor)
    order.shipping_sealed = vault.seal(details.shipping.to_dict())
    order.billing_sealed = vault.seal((details.billing or details.shipping).to_dict())
    order.shipping_method = details.method
    order.chat_key = chat_key
    if user_id is not None:
        await remember(session=session, user_id=user_id, address=details.shipping, vault=vault,
                       secret_key=secret_key)
    await session.flush()
    return order


def _fingerprint(secret_key: str, address: Address) -> str:
    data = json.dumps({k: v.lower() for k, v in address.to_dict().items()}, sort_keys=True)
    return hmac.new(secret_key.encode(), data.encode(), hashlib.sha256).hexdigest()


async def remember(*, session: AsyncSession, user_id: int, address: Address, vault: Vault,
                   secret_key: str) -> None:
    """Keep an address for the account's next checkout (the newest few, each once)."""
    fingerprint = _fingerprint(secret_key, address)
    known = await session.scalar(select(SavedAddress).where(
        SavedAddress.user_id == user_id, SavedAddress.fingerprint == fingerprint))
    if known is not None:
        known.last_used_at = now()
        return
    session.add(SavedAddress(user_id=user_id, sealed=vault.seal(address.to_dict()),
                             fingerprint=fingerprint))
    await session.flush()
    rows = list(await session.scalars(select(SavedAddress).where(
        SavedAddress.user_id == user_id).order_by(SavedAddress.last_used_at.desc())))
    for stale in rows[MAX_SAVED:]:
        await session.delete(stale)


async def saved(*, session: AsyncSession, user_id: int, vault: Vault
                ) -> list[tuple[int, Address]]:
    rows = await session.scalars(select(SavedAddress).where(SavedAddress.user_id == user_id)
                                 .order_by(SavedAddress.last_used_at.desc()))
    return [(row.id, Address.from_dict(vault.open(row.sealed))) for row in rows]
