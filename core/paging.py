"""One page of a staff list: the rows, how many there are in all, and where this page is."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
PER_PAGE = 50
LAST_PAGE = 10_000  # a page number typed into the address bar is capped, not trusted


@dataclass(frozen=True, slots=True)
class Paged(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


async def paged(session: AsyncSession, query: Select[Any], *, page: int = 1,
                per_page: int = PER_PAGE, scalars: bool = True) -> Paged[Any]:
    """Run `query` (already ordered) for one page; a page past the end is the last one."""
    total = await session.scalar(select(func.count()).select_from(
        query.order_by(None).subquery())) or 0
    page = min(max(page, 1), LAST_PAGE, max(1, math.ceil(total / per_page)))
    window = query.limit(per_page).offset((page - 1) * per_page)
    rows = list(await session.scalars(window)) if scalars else list(
        (await session.execute(window)).all())
    return Paged(rows, int(total), page, per_page)
