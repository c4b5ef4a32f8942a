"""Live news for open console pages (Server-Sent Events at /admin/live): a paid order, a
shopper asking for a person, stock running low, with the nav's counts kept current.

Every page carries the id of the last news it already shows; the stream starts after it,
and the browser's reconnection (Last-Event-ID) carries on from the last item it got, so
nothing falls between page and stream. The news comes from the shop's newsroom, which
hears this process's commits and, with Redis, every other process's (bot/wakeups.py).

A stream lives for `Console.live_seconds`, then the browser reconnects, signing in
again: a session signed out meanwhile is refused then, or sooner at its next check.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy.ext.asyncio import AsyncSession

from admin_web.console import console
from core.accounts.models import User
from core.audit import news
from core.audit.news import News
from core.catalog import service as catalog
from core.errors import NotFound

router = APIRouter()
RETRY_MS = 3000      # the browser's pause before reconnecting
CHECK_SECONDS = 60.0  # how often a quiet stream checks its session is still signed in


@dataclass(frozen=True, slots=True)
class Headline:
    text: str
    link: str
    alert: bool  # shown to staff; otherwise only the counts change


async def headline(session: AsyncSession, item: News, root: str) -> Headline:
    """How the console tells `item`."""
    data = item.data
    if item.action == "order.status_changed":
        number = data.get("number", f"#{item.subject_id}")
        paid = data.get("to") in ("paid", "authorized")
        text = (f"Order {number} is paid and waiting to be packed." if paid
                else f"Order {number} is now {str(data.get('to', '')).replace('_', ' ')}.")
        return Headline(text, f"{root}/orders/{item.subject_id}", paid)
    if item.action == "stock.low":
        try:
            product = await catalog.get_product(session=session,
                                                product_id=int(item.subject_id))
            name, sku = product.name, product.sku
        except (NotFound, ValueError):
            name, sku = "A product", ""
        left = data.get("available", 0)
        text = f"{name} is running low: {left} left." if left > 0 else f"{name} is sold out."
        return Headline(text, f"{root}/inventory?q={sku}", True)
    if item.action == "support.handoff_requested":
        return Headline("A shopper is asking to talk to a person.", f"{root}/handoffs", True)
    return Headline("", f"{root}/handoffs", False)  # taken or closed: the counts change


async def signed_in_staff(request: Request) -> User:
    """The stream is for signed-in staff only; anyone else is refused before it starts
    (a refused EventSource stops reconnecting)."""
    user = await console(request).signed_in(request)
    if user is None:
        raise HTTPException(401, "Sign in to the console first.")
    return user


def _start(after: int | None, last_event_id: str | None) -> int:
    """Where to start: the browser's last item on a reconnection, else the page's."""
    for raw in (last_event_id, after):
        try:
            return max(0, int(str(raw).strip()))
        except ValueError:
            continue
    return 0


@router.get("/live", response_class=EventSourceResponse)
async def live(request: Request, user: Annotated[User, Depends(signed_in_staff)],
               after: Annotated[str | None, Query(max_length=20)] = None,
               last_event_id: Annotated[str | None, Header(max_length=20)] = None,
               ) -> AsyncIterator[ServerSentEvent]:
    site = console(request)
    shop, root = site.shop(), site.root(request)
    start = _start(after, last_event_id)
    loop = asyncio.get_running_loop()
    ends, check = loop.time() + site.live_seconds, loop.time() + CHECK_SECONDS
    with shop.newsroom.listening() as heard:
        yield ServerSentEvent(comment="news for the console", retry=RETRY_MS)
        async with shop.transaction() as session:
            missed = await news.since(session=session, after_id=start) if start else []
        told = {item.id for item in missed}  # heard live as well, maybe: told once
        batch = missed
        while True:
            if batch:
                async with shop.transaction() as session:
                    counts = await site.counts(session)
                    for item in batch:
                        said = await headline(session, item, root)
                        yield ServerSentEvent(id=str(item.id), event="news", data={
                            "text": said.text, "link": said.link, "alert": said.alert,
                            "action": item.action, "subject": item.subject_id,
                            "counts": counts})
            now = loop.time()
            if now >= ends:
                return
            if now >= check:
                if await site.signed_in(request) is None:
                    return
                check = now + CHECK_SECONDS
            if shop.closing.is_set():
                return
            first = await shop.waiting(heard.get(), min(ends, check) - now)
            if first is None:
                batch = []
                continue
            batch = [first]
            while not heard.empty():
                batch.append(heard.get_nowait())
            batch = [item for item in batch if item.id not in told]
            told.update(item.id for item in batch)
