"""Text search with filters over the active catalog, paginated.

Plain SQL LIKE over a lower-cased `search_text` column works the same on SQLite
and PostgreSQL; a catalog of a few thousand products needs nothing heavier. A page is
one statement of plain rows (the total rides along as a window count): it runs on
most chat turns, where loading whole products, their pictures and a separate count
cost three statements and most of the turn.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field, replace

from sqlalchemy import Integer, Select, and_, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalog.errors import CatalogError
from core.catalog.models import Category, Product, ProductStatus
from core.db import run
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


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a search's statement depends on; the values are bound at each run."""
    words: int
    category: bool
    price_min: bool
    price_max: bool
    in_stock: bool
    include_archived: bool


_product, _stock, _category = Product.__table__.c, StockItem.__table__.c, Category.__table__.c


def _filtered(query: Select, shape: _Shape) -> Select:  # type: ignore[type-arg]
    if not shape.include_archived:
        query = query.where(_product.status == ProductStatus.ACTIVE)
    for n in range(shape.words):
        query = query.where(_product.search_text.like(bindparam(f"word{n}"), escape="\\"))
    if shape.category:
        children = select(_category.id).where(_category.parent_id == bindparam("category_id"))
        query = query.where(or_(_product.category_id == bindparam("category_id"),
                                _product.category_id.in_(children)))
    if shape.price_min:
        query = query.where(_product.price_minor >= bindparam("price_min"))
    if shape.price_max:
        query = query.where(_product.price_minor <= bindparam("price_max"))
    if shape.in_stock:
        query = query.where(StockItem.available > 0)
    return query


@functools.lru_cache(maxsize=64)
def _statements(shape: _Shape) -> tuple[Select, Select]:  # type: ignore[type-arg]
    """A page (products with stock, the total as a window count) and a bare count, built
    once per shape: building and keying a statement cost more than SQLite's whole run."""
    joined = Product.__table__.outerjoin(StockItem.__table__, _stock.product_id == _product.id)
    available = func.coalesce(StockItem.available, 0)
    page = _filtered(select(_product.id, _product.name, _product.price_minor, _product.currency,
                            available, func.count().over()).select_from(joined), shape)
    order = [case((and_(*(func.lower(_product.name).like(bindparam(f"word{n}"), escape="\\")
                          for n in range(shape.words))), 0), else_=1)] if shape.words else []
    page = page.order_by(*order, _product.name, _product.id).limit(
        bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer))
    count = _filtered(select(func.count(_product.id)).select_from(joined), shape)
    return page, count


async def search(
    *, session: AsyncSession, filters: SearchFilters, page: int = 1, per_page: int = 10
) -> Page:
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(CatalogError.PAGE_INVALID, "That page does not exist.")
    if (filters.price_min is not None and filters.price_max is not None
            and filters.price_min > filters.price_max):
        filters = replace(filters, price_min=filters.price_max, price_max=filters.price_min)
    words = terms(filters.text)
    shape = _Shape(len(words), filters.category_id is not None, filters.price_min is not None,
                   filters.price_max is not None, filters.in_stock, filters.include_archived)
    values: dict[str, object] = {f"word{n}": _like(word) for n, word in enumerate(words)}
    values.update(category_id=filters.category_id, price_min=filters.price_min,
                  price_max=filters.price_max)
    listed, counted = _statements(shape)
    rows = (await run(session, listed, {**values, "limit": per_page,
                                        "offset": (page - 1) * per_page})).all()
    if rows:
        total = int(rows[0][5])
    elif page == 1:
        total = 0
    else:  # past the last page: the window had no row to ride on
        total = int((await run(session, counted, values)).scalar() or 0)
    items = [Listing(product_id, name, price, currency, max(int(left), 0))
             for product_id, name, price, currency, left, _ in rows]
    return Page(items=items, total=total, page=page, per_page=per_page, filters=filters)
