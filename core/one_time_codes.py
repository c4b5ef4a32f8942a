"""Spending a typed one-time code (a chat's link code, an SMS consent code): one place for
the rules both keep, so they cannot drift apart.

A wrong guess is counted in the database (two guesses at once both count) and never
revives a spent code; the `max_attempts`-th wrong guess spends it; a right one spends it
with a conditional update, so the same code typed twice at once is good once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession


async def spend(session: AsyncSession, model: type[Any], row_id: int, *, right: bool,
                max_attempts: int, at: datetime) -> int | None:
    """None when the code was right (and is now spent); else how many tries are left, 0
    when it is spent (too many wrong, or typed right twice at once)."""
    live = (model.id == row_id, model.used_at.is_(None))
    if not right:
        attempts = await session.scalar(update(model).where(*live)
                                        .values(attempts=model.attempts + 1)
                                        .returning(model.attempts))
        if attempts is None or attempts >= max_attempts:
            await session.execute(update(model).where(*live).values(used_at=at))
            return 0
        return max_attempts - attempts
    used = await session.execute(update(model).where(*live).values(used_at=at))
    return None if used.rowcount == 1 else 0  # type: ignore[attr-defined]
