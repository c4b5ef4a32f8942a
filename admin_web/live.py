"""Live news for open console pages (Server-Sent Events at /admin/live): a paid order, a
shopper asking for a person, stock running low, a staff account locked (to admins), with
the nav's counts kept current.

The audit log is the source: every page carries the id of the last news it shows, the
stream sends what the log has after it, and the browser's reconnection (Last-Event-ID)
carries on from the last item it got, so nothing falls between page and stream or
between two streams. The shop's newsroom only wakes a stream at once: it hears this
process's commits and, with Redis, every other process's (bot/wakeups.py); a stream
also reads the log every `LOOK_SECONDS` in case a wakeup was lost.

A stream lives for `Console.live_seconds`, then the browser reconnects, signing in
again: a session signed out meanwhile is refused then, or sooner at its next check.

Streams open at once are capped per member of staff and per process
(`CONSOLE_STREAMS_PER_STAFF`, 10, and `CONSOLE_STREAMS_PER_PROCESS`, 200): each holds a
socket and a task for ten minutes, and a page only keeps one open while its tab is
shown, so ten is more tabs in view than anyone has. A refused page works as ever, without
live news, and tries again later (live.js waits longer each time).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy.ext.asyncio import AsyncSession

from admin_web import forms
from admin_web.console import Console, console
from core.accounts.models import Role, User
from core.audit import news
from core.audit.news import News
from core.catalog import service as catalog
from core.errors import NotFound
from core.i18n import _
from core.slots import Full, Slots

router = APIRouter()
RETRY_MS = 3000       # the browser's pause before reconnecting
CHECK_SECONDS = 60.0  # how often a quiet stream checks its session is still signed in
LOOK_SECONDS = 10.0   # how often it reads the log unwoken (news Redis did not bring)
OVERLAP = timedelta(seconds=30)  # how far back each read looks again for late commits


@dataclass(frozen=True, slots=True)
class Headline:
    text: str
    link: str
    alert: bool  # shown to staff; otherwise only the counts change


async def headline(session: AsyncSession, item: News, root: str,
                   viewer: User | None = None) -> Headline | None:
    """How the console tells `item` to `viewer`; None when it is not for them (a locked
    staff account is for admins, who alone see staff accounts and unlock them)."""
    data = item.data
    if item.action == "account.locked":
        if viewer is None or viewer.role is not Role.ADMIN:
            return None
        person = (await session.get(User, int(item.subject_id))
                  if item.subject_id.isdigit() else None)
        text = (_("{email} is locked after too many wrong sign-in codes.", email=person.email)
                if person else _("A staff account is locked after too many wrong sign-in codes."))
        return Headline(text, f"{root}/users/{item.subject_id}", True)
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
        return Headline(text, f"{root}/inventory?q={quote(sku)}", True)
    if item.action == "support.handoff_requested":
        return Headline("A shopper is asking to talk to a person.", f"{root}/handoffs", True)
    return Headline("", f"{root}/", False)  # taken, closed, restocked: the counts change


async def signed_in_staff(request: Request) -> User:
    """The stream is for signed-in staff only; anyone else is refused before it starts
    (a refused EventSource stops reconnecting)."""
    user = await console(request).signed_in(request)
    if user is None:
        raise HTTPException(401, "Sign in to the console first.")
    return user


async def stream_slot(request: Request,
                      user: Annotated[User, Depends(signed_in_staff)]) -> AsyncIterator[User]:
    """The signed-in member of staff, holding one of the open-stream slots until their
    stream ends (a dependency of scope "request": it lets go after the last byte)."""
    slots: Slots = request.app.state.streams
    holder = str(user.id)
    full = slots.take(holder)
    if full is Full.HOLDER:
        raise HTTPException(429, _("You have too many console pages showing live news. "
                                   "Close one, and this page's news resumes."),
                            headers={"Retry-After": "30"})
    if full is Full.ALL:
        raise HTTPException(429, _("Too many console pages are showing live news right "
                                   "now. This page's news resumes in a minute."),
                            headers={"Retry-After": "60"})
    try:
        yield user
    finally:
        slots.give_back(holder)


def _start(after: str | None, last_event_id: str | None) -> int | None:
    """Where to start: the browser's last item on a reconnection, else the page's; None
    when neither says (then: from now)."""
    for raw in (last_event_id, after):
        if raw is not None and raw.strip().isascii() and raw.strip().isdigit() and \
                forms.fits(raw.strip()):
            return int(raw.strip())
    return None


class Reader:
    """One stream's reading of the log: what came after the last item sent, and the
    recent past again in case a late commit brought a lower id, less what was sent."""

    def __init__(self, after: int) -> None:
        self.start = self.after = after  # the page (or the last stream) showed up to start
        self.told: OrderedDict[int, None] = OrderedDict()

    async def fresh(self, session: AsyncSession) -> list[News]:
        found: list[News] = []
        for _read in range(10):  # a burst larger than one read: read on
            batch = await news.since(session=session, after_id=self.after, overlap=OVERLAP,
                                     floor_id=self.start)
            found += [item for item in batch if item.id not in self.told]
            self.after = max([self.after, *(item.id for item in batch)])
            if len(batch) < news.LIMIT:
                break
        for item in found:
            self.told[item.id] = None
        while len(self.told) > 2000:
            self.told.popitem(last=False)
        return found


async def _catch_up(site: Console, request: Request, reader: Reader,
                    viewer: User) -> list[ServerSentEvent]:
    """The events to send now, worked out in one short transaction (and sent after it:
    a slow browser must not hold the database)."""
    root = site.root(request)
    async with site.shop().transaction() as session:
        items = await reader.fresh(session)
        if not items:
            return []
        counts = await site.counts(session)
        said = [(item, await headline(session, item, root, viewer)) for item in items]
    return [ServerSentEvent(id=str(item.id), event="news", data={
        "text": line.text, "link": line.link, "alert": line.alert, "action": item.action,
        "subject": item.subject_id, "counts": counts}) for item, line in said if line]


@router.get("/live", response_class=EventSourceResponse)
async def live(request: Request,
               user: Annotated[User, Depends(stream_slot, scope="request")],
               after: Annotated[str | None, Query(max_length=20)] = None,
               last_event_id: Annotated[str | None, Header(max_length=20)] = None,
               ) -> AsyncIterator[ServerSentEvent]:
    site = console(request)
    shop = site.shop()
    loop = asyncio.get_running_loop()
    ends, check = loop.time() + site.live_seconds, loop.time() + CHECK_SECONDS
    with shop.newsroom.listening() as heard:
        yield ServerSentEvent(comment="news for the console", retry=RETRY_MS)
        start = _start(after, last_event_id)
        if start is None:
            async with shop.transaction() as session:
                start = await news.latest_id(session=session)
        reader = Reader(start)
        while True:
            for event in await _catch_up(site, request, reader, user):
                yield event
            moment = loop.time()
            if moment >= ends or shop.closing.is_set():
                return  # the browser reconnects (to another process, if this one stops)
            if moment >= check:
                if await site.signed_in(request) is None:
                    return
                check = moment + CHECK_SECONDS
            await shop.waiting(heard.get(), min(ends, check, moment + LOOK_SECONDS) - moment)
            while not heard.empty():  # woken: the log says what is new
                heard.get_nowait()
