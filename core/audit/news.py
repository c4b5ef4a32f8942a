"""What staff hear of as it happens: the audit events of a few kinds (an order paid, a
shopper asking for a person, stock running low, a staff account locked after wrong
sign-in codes), told to whoever listens once the transaction that wrote them has
committed, never before and never after a rollback.

An item's id is its audit event's id, so it is the same in every process, and a console
that lost its connection asks for the ones after the last it saw (`since`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.models import AuditEvent
from core.clock import now

ACTIONS = frozenset({"order.status_changed", "stock.low", "stock.adjusted",
                     "support.handoff_requested", "support.handoff_taken",
                     "support.handoff_closed", "account.locked"})
PENDING = "chatcart.audit.news"  # session.info key: the events this transaction announced
REPLAY = timedelta(hours=1)      # how far back a reconnecting console is caught up
LIMIT = 200                      # items a read returns at most (callers read on)
# What travels (through Redis too): the figures a headline needs, not the audit's free text.
TOLD = ("number", "to", "available")


@dataclass(frozen=True, slots=True)
class News:
    id: int
    action: str
    subject_type: str
    subject_id: str
    data: dict[str, Any]
    at: str  # ISO 8601, UTC

    @classmethod
    def of(cls, event: AuditEvent) -> News:
        data = {key: value for key, value in (event.data or {}).items() if key in TOLD}
        return cls(event.id, event.action, event.subject_type, event.subject_id, data,
                   event.occurred_at.isoformat())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Any) -> News:
        """One item as another process sent it; ValueError when it is not one."""
        if not isinstance(raw, dict) or not isinstance(raw.get("data"), dict):
            raise ValueError("not a news item")
        return cls(int(raw["id"]), str(raw["action"]), str(raw["subject_type"]),
                   str(raw["subject_id"]), raw["data"], str(raw["at"]))


def announce(session: AsyncSession, event: AuditEvent) -> None:
    """Called by `audit.record`: keep `event` to tell once the transaction commits."""
    if event.action in ACTIONS:
        session.info.setdefault(PENDING, []).append(event)


def committed(session: AsyncSession) -> list[News]:
    """The news of a transaction that has just committed (Shop.transaction calls it).

    An event added inside a savepoint that rolled back was never stored: SQLAlchemy
    turned it back into a transient object, with no identity, and it is left out.
    """
    events = session.info.pop(PENDING, [])
    return [News.of(event) for event in events if inspect(event).has_identity]


async def since(*, session: AsyncSession, after_id: int, overlap: timedelta = timedelta(0),
                floor_id: int | None = None, limit: int = LIMIT) -> list[News]:
    """The news after `after_id` (at most an hour old), oldest first. With `overlap`, also
    that recent past's news above `floor_id` though below `after_id`, for the caller to
    skip what it has told: on PostgreSQL an id is taken before the commit, so a
    transaction that commits late can bring an id below one already seen."""
    moment = now()
    wanted = AuditEvent.id > after_id
    if overlap:
        wanted = or_(wanted, and_(AuditEvent.id > (after_id if floor_id is None else floor_id),
                                  AuditEvent.occurred_at >= moment - overlap))
    rows = await session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(ACTIONS),
                                 AuditEvent.occurred_at >= moment - REPLAY, wanted)
        .order_by(AuditEvent.id).limit(limit))
    return [News.of(event) for event in rows]


async def latest_id(*, session: AsyncSession) -> int:
    """Where a page just drawn starts listening: the last event written so far."""
    return await session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc())
                                .limit(1)) or 0


class Newsroom:
    """The listeners in this process. Each takes news from a queue of its own; one that
    falls behind by `backlog` items misses the newer ones rather than holding anyone up
    (the console reads what it missed from the log: the queue only wakes it).

    An item is told once however it arrives (from a commit here, or again through Redis
    from another process, or echoed back from Redis to the process that sent it).
    """

    def __init__(self, backlog: int = 100, remember: int = 1000) -> None:
        self.backlog = backlog
        self._listeners: set[asyncio.Queue[News]] = set()
        self._told: deque[int] = deque(maxlen=remember)
        self._told_ids: set[int] = set()

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def tell(self, items: Iterable[News]) -> None:
        for item in items:
            if item.id in self._told_ids:
                continue
            if len(self._told) == self._told.maxlen:
                self._told_ids.discard(self._told[0])
            self._told.append(item.id)
            self._told_ids.add(item.id)
            for queue in self._listeners:
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(item)

    @contextlib.contextmanager
    def listening(self) -> Iterator[asyncio.Queue[News]]:
        queue: asyncio.Queue[News] = asyncio.Queue(self.backlog)
        self._listeners.add(queue)
        try:
            yield queue
        finally:
            self._listeners.discard(queue)

