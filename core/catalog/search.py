"""Text search with filters over the active catalog, paginated.

Plain SQL LIKE over a lower-cased `search_text` column works the same on SQLite
and PostgreSQL; a catalog of a few thousand products needs nothing heavier. A page is
one statement of plain rows (the total rides along as a window count): it runs on
most chat turns, where loading whole products, their pictures and a separate count
cost three statements and most of the turn.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalog.errors import CatalogError
from core.catalog.models import Category, Product, ProductStatus
from core.errors import InvalidInput
from core.inventory.models import StockItem

MAX_PER_PAGE = 100
_WORD = re.compile(r"[\w\-']+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class SearchFilters:
    text: str = ""
    category_id: int | None = None
    price_min: int | None = None
    price_max: int | None = None
    in_stock: bool = False
    include_archived: bool = False


@dataclass(frozen=True, slots=True)
class Listing:
    """One product as a list shows it; the card reads the whole product."""
    product_id: int
    name: str
    price_minor: int
    currency: str
    available: int

    @property
    def in_stock(self) -> bool:
        return self.available > 0


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Listing]
    total: int
    page: int
    per_page: int
    filters: SearchFilters = field(default_factory=SearchFilters)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def terms(text: str) -> list[str]:
    """Lower-cased words with a light plural strip, so "mugs" finds "mug"."""
    words = []
    for word in _WORD.findall(text.lower()):
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):
            word = word[:-2]
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return words


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filtered(query: Select, filters: SearchFilters) -> Select:  # type: ignore[type-arg]
    if not filters.include_archived:
        query = query.where(Product.status == ProductStatus.ACTIVE)
    for word in terms(filters.text):
        query = query.where(Product.search_text.like(_like(word), escape="\\"))
    if filters.category_id is not None:
        children = select(Category.id).where(Category.parent_id == filters.category_id)
        query = query.where(or_(Product.category_id == filters.category_id,
                                Product.category_id.in_(children)))
    if filters.price_min is not None:
        query = query.where(Product.price_minor >= filters.price_min)
    if filters.price_max is not None:
        query = query.where(Product.price_minor <= filters.price_max)
    if filters.in_stock:
        query = query.where(StockItem.on_hand - StockItem.reserved > 0)
    return query


async def search(
    *, session: AsyncSession, filters: SearchFilters, page: int = 1, per_page: int = 10
) -> Page:
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(CatalogError.PAGE_INVALID, "That page does not exist.")
    if (filters.price_min is not None and filters.price_max is not None
            and filters.price_min > filters.price_max):
        filters = replace(filters, price_min=filters.price_max, price_max=filters.price_min)
    available = func.coalesce(StockItem.on_hand - StockItem.reserved, 0)
    words = terms(filters.text)
    in_name = (case((and_(*(func.lower(Product.name).like(_like(w), escape="\\")
                            for w in words)), 0), else_=1) if words else None)
    order = [in_name] if in_name is not None else []
    query = _filtered(select(Product.id, Product.name, Product.price_minor, Product.currency,
                             available, func.count().over())
                      .outerjoin(StockItem, StockItem.product_id == Product.id), filters)
    rows = (await session.execute(query.order_by(*order, Product.name, Product.id)
                                  .limit(per_page).offset((page - 1) * per_page))).all()
    if rows:
        total = int(rows[0][5])
    elif page == 1:
        total = 0
    else:  # past the last page: the window had no row to ride on
        total = int(await session.scalar(_filtered(
            select(func.count(Product.id)).outerjoin(
                StockItem, StockItem.product_id == Product.id), filters)) or 0)
    items = [Listing(product_id, name, price, currency, max(int(left), 0))
             for product_id, name, price, currency, left, _ in rows]
    return Page(items=items, total=total, page=page, per_page=per_page, filters=filters)
