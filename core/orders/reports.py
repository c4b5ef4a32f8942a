"""The figures the console's home page shows: revenue and orders over recent periods, the
best sellers, stock running low, and shoppers waiting for a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalog.models import Product, ProductStatus
from core.clock import now
from core.inventory.models import StockItem
from core.orders.models import Order, OrderLine
from core.orders.states import CAPTURED, OrderStatus
from core.support import service as support

# Orders whose money is (or was) ours: revenue counts what was taken less what went back.
EARNING = (*CAPTURED, OrderStatus.REFUNDED)


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    orders: int
    revenue_minor: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    currency: str
    periods: list[Period]
    top_products: list[tuple[str, int]]          # name, units sold in 30 days
    low_stock: list[tuple[str, str, int, int]]   # sku, name, available, threshold (first 10)
    low_stock_count: int                         # all of them
    open_handoffs: int


async def _period(session: AsyncSession, label: str, since: datetime) -> Period:
    row = (await session.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.total_minor -
                                                            Order.refunded_minor), 0))
        .where(Order.status.in_(EARNING), Order.created_at >= since))).one()
    return Period(label, int(row[0]), int(row[1]))


async def dashboard(*, session: AsyncSession, currency: str, at: datetime | None = None
                    ) -> Dashboard:
    moment = at or now()
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    periods = [await _period(session, "Today", midnight),
               await _period(session, "7 days", moment - timedelta(days=7)),
               await _period(session, "30 days", moment - timedelta(days=30))]
    kept = func.sum(OrderLine.quantity - OrderLine.refunded_quantity)  # refunded units: not sold
    top = await session.execute(
        select(OrderLine.name, kept).join(Order, Order.id == OrderLine.order_id)
        .where(Order.status.in_(EARNING), Order.created_at >= moment - timedelta(days=30))
        .group_by(OrderLine.name).having(kept > 0).order_by(kept.desc()).limit(5))
    running_low = select(Product.sku, Product.name, StockItem.available,
                         StockItem.low_stock_threshold)\
        .join(StockItem, StockItem.product_id == Product.id)\
        .where(StockItem.running_low, Product.status == ProductStatus.ACTIVE)
    low = await session.execute(running_low.order_by(StockItem.available, Product.name)
                                .limit(10))
    low_count = await session.scalar(select(func.count()).select_from(running_low.subquery()))
    waiting = await support.waiting_count(session=session)
    return Dashboard(currency, periods, [(name, int(units)) for name, units in top.all()],
                     [(sku, name, int(n), int(t)) for sku, name, n, t in low.all()],
                     int(low_count or 0), waiting)
