"""One support conversation as an agent holds it (`/admin/handoffs/{id}`): the transcript
(shopper, bot, agents, internal notes and what happened, the turns from before the request
marked as such), the shopper's cart, orders and linked chats beside it, a reply box with
the saved replies, notes, and take, transfer and resolve.

Everything changes through core's conversation (core/support/conversations.py), which
keeps one owner at a time, refuses a reply to a resolved conversation and names whoever
holds one, and sends agent text to the shopper's chat through the outbox. A refusal is
shown by the box it was typed in, with the text kept.

The page's stream (`/admin/handoffs/{id}/live`) sends each entry written after the last one
the page shows, and the state when it changes. It is woken by the shop's newsroom (the
conversation's audited changes, in this process or through Redis) and reads the
transcript every `LOOK_SECONDS` anyway; it holds one of the live-news stream slots.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy.ext.asyncio import AsyncSession

from admin_web import forms, live
from admin_web.console import Console, actor, console, money, status_of
from core.accounts import identities
from core.accounts import service as accounts
from core.accounts.models import ChatIdentity, Role, User
from core.carts import service as carts
from core.carts.totals import CartView
from core.errors import DomainError
from core.orders import service as orders
from core.orders.models import Order
from core.orders.states import LABELS
from core.support import conversations as talk
from core.support import saved_replies
from core.support.models import Author, HandoffRequest, HandoffStatus, Origin

router = APIRouter()
STAFF = (Role.ADMIN, Role.SUPPORT)
LOOK_SECONDS = 1.0  # how often an unwoken stream reads the transcript
CHECK_SECONDS = 60.0  # how often it checks its session is still signed in


@dataclass(frozen=True, slots=True)
class Beside:
    """What staff see of the shopper next to the transcript."""
    platform: str
    account: User | None
    chats: list[ChatIdentity]
    cart: CartView | None
    orders: list[Order]


async def beside(session: AsyncSession, handoff: HandoffRequest) -> Beside:
    """The shopper's account, chats, cart and last orders, read without changing anything
    (a chat with no cart yet gets none made)."""
    identity = await session.get(ChatIdentity, handoff.identity_id)
    account = (await session.get(User, identity.user_id)
               if identity is not None and identity.user_id is not None else None)
    chats = await identities.for_user(session=session, user_id=account.id) if account else []
    cart = await carts.find(session=session, user_id=account.id if account else None,
                            session_key=handoff.chat_key)
    view = await carts.view(session=session, cart=cart) if cart is not None else None
    recent = await orders.history(session=session, user_id=account.id if account else None,
                                  identity_id=handoff.identity_id, limit=10)
    return Beside(identity.platform if identity else handoff.chat_key.split(":")[0],
                  account, chats, view, recent)


def state_of(handoff: HandoffRequest) -> str:
    if handoff.status is HandoffStatus.OPEN:
        return "waiting"
    return "taken" if handoff.status is HandoffStatus.TAKEN else "resolved"


def state_key(handoff: HandoffRequest) -> str:
    """The state and its holder: a transfer changes the key, not the state."""
    return f"{state_of(handoff)}:{handoff.taken_by_id or ''}"


def state_text(handoff: HandoffRequest, holder: str | None) -> str:
    state = state_of(handoff)
    if state == "waiting":
        return "Waiting for a person."
    if state == "taken":
        return f"With {holder or 'a member of staff'}."
    return "Resolved: the chat is back with the bot."


WHO = {Author.SHOPPER: "Shopper", Author.BOT: "Bot", Author.SYSTEM: "System"}


@dataclass(frozen=True, slots=True)
class Line:
    """A transcript entry as the page and the stream show it."""
    id: int
    author: str
    who: str
    text: str
    context: bool
    at: datetime

    @classmethod
    def of(cls, entry: talk.Entry, shopper: str) -> Line:
        if entry.author is Author.SHOPPER:
            who = shopper
        elif entry.author is Author.AGENT:
            who = entry.staff_email or "A member of staff"
        elif entry.author is Author.NOTE:
            who = f"Note by {entry.staff_email or 'a member of staff'}"
        else:
            who = WHO[entry.author]
        return cls(entry.id, entry.author.value, who, entry.text, entry.context, entry.at)

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "author": self.author, "who": self.who, "text": self.text,
                "context": self.context, "at": self.at.isoformat(),
                "shown_at": self.at.strftime("%Y-%m-%d %H:%M:%S")}


async def _shopper_name(session: AsyncSession, handoff: HandoffRequest) -> str:
    identity = await session.get(ChatIdentity, handoff.identity_id)
    return (identity.display_name if identity and identity.display_name else "") or "Shopper"


async def _holder(session: AsyncSession, handoff: HandoffRequest) -> str | None:
    holder = await session.get(User, handoff.taken_by_id) if handoff.taken_by_id else None
    return holder.email if holder else None


async def draw(request: Request, user: User, handoff_id: int, status: int = 200, *,
               reply_error: str | None = None, note_error: str | None = None,
               action_error: str | None = None, typed: str = "",
               noted: str = "") -> Response:
    """The page; a refused reply, note or action shows its reason by the box or buttons it
    came from, what was typed kept."""
    site = console(request)
    running = site.shop()
    async with running.transaction() as session:
        handoff = await session.get(HandoffRequest, handoff_id)
        if handoff is None:
            return site.page(request, "base.html", 404, user=user,
                             error="No such support conversation.")
        name = await _shopper_name(session, handoff)
        lines = [Line.of(entry, name) for entry in
                 await talk.transcript(session=session, handoff_id=handoff.id)]
        holder = await _holder(session, handoff)
        shopper = await beside(session, handoff)
        staff = await _staff(session)
        rating_comment = talk.unseal(session, handoff.rating_comment)
        reason = talk.reason_of(session, handoff)
        saved = await saved_replies.all_replies(session=session)
        session.expunge_all()
    return site.page(
        request, "conversation.html", status, user=user, handoff=handoff, shopper_name=name,
        entries=lines, last_id=lines[-1].id if lines else 0, state=state_of(handoff),
        state_key=state_key(handoff),
        state_text=state_text(handoff, holder), beside=shopper, money=money,
        labels=LABELS, saved=saved, reply_limit=talk.MAX_TEXT,
        transfer_to=[person for person in staff
                     if person.id not in (user.id, handoff.taken_by_id)]
        if _may_transfer(handoff, user) else [],
        can_reply=handoff.status is not HandoffStatus.CLOSED or bool(reply_error),
        reply_error=reply_error, note_error=note_error, action_error=action_error,
        typed=typed[:talk.MAX_TEXT], noted=noted[:talk.MAX_TEXT],
        rating=handoff.rating, rating_comment=rating_comment, reason=reason)


def _may_transfer(handoff: HandoffRequest, user: User) -> bool:
    """As core decides: a waiting conversation, one's own, or (an admin) anyone's."""
    return handoff.status is HandoffStatus.OPEN or handoff.taken_by_id == user.id or (
        handoff.status is HandoffStatus.TAKEN and user.role is Role.ADMIN)


async def _staff(session: AsyncSession) -> list[User]:
    """Who a conversation can be transferred to: active admins and support."""
    found = []
    for role in STAFF:
        page = await accounts.people(session=session, role=role, per_page=200)
        found += [person for person, _chats in page.items if person.is_active]
    return sorted(found, key=lambda person: person.email)


@router.get("/handoffs/{handoff_id}", response_model=None)
async def conversation_page(request: Request, handoff_id: int) -> Response:
    user = await console(request).staff_only(request, *STAFF)
    if not isinstance(user, User):
        return user
    return await draw(request, user, handoff_id)


@router.post("/handoffs/{handoff_id}/reply", response_model=None)
async def reply(request: Request, handoff_id: int) -> Response:
    """The agent's words to the shopper (a saved reply's, picked without script, when the
    box is empty)."""
    site = console(request)
    checked = await site.acting(request, *STAFF)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    text = forms.bounded(data.get("text", ""), talk.MAX_TEXT)
    try:
        async with site.shop().transaction() as session:
            if not text.strip() and forms.ident(data.get("saved", "")) is not None:
                text = (await saved_replies.get(
                    session=session, reply_id=forms.ident(data.get("saved", "")) or 0)).text
            await talk.agent_reply(session=session, handoff_id=handoff_id, staff_id=user.id,
                                   text=text, origin=Origin.CONSOLE, actor=actor(user))
    except DomainError as problem:
        return await draw(request, user, handoff_id, status_of(problem),
                          reply_error=problem.message, typed=text)
    return site.go(request, f"/handoffs/{handoff_id}#reply")


@router.post("/handoffs/{handoff_id}/note", response_model=None)
async def note(request: Request, handoff_id: int) -> Response:
    """An internal note: staff read it here and in the mirror; the shopper never does."""
    site = console(request)
    checked = await site.acting(request, *STAFF)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    text = forms.bounded(data.get("text", ""), talk.MAX_TEXT)
    try:
        async with site.shop().transaction() as session:
            await talk.add_note(session=session, handoff_id=handoff_id, staff_id=user.id,
                                text=text, origin=Origin.CONSOLE, actor=actor(user))
    except DomainError as problem:
        return await draw(request, user, handoff_id, status_of(problem),
                          note_error=problem.message, noted=text)
    return site.go(request, f"/handoffs/{handoff_id}#note")


@router.post("/handoffs/{handoff_id}/transfer", response_model=None)
async def transfer(request: Request, handoff_id: int) -> Response:
    site = console(request)
    checked = await site.acting(request, *STAFF)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    try:
        async with site.shop().transaction() as session:
            await talk.transfer(session=session, handoff_id=handoff_id,
                                to_staff_id=forms.ident(data.get("to", "")) or 0,
                                actor=actor(user))
    except DomainError as problem:
        return await draw(request, user, handoff_id, status_of(problem),
                          action_error=problem.message)
    return site.go(request, f"/handoffs/{handoff_id}")


def _start(after: str | None, last_event_id: str | None) -> int:
    """The last entry the page shows (or the browser got on a reconnection)."""
    for raw in (last_event_id, after):
        if raw is not None and raw.strip().isascii() and raw.strip().isdigit() and \
                forms.fits(raw.strip()):
            return int(raw.strip())
    return 0


async def _news(site: Console, handoff_id: int, after: int,
                told_state: str | None) -> tuple[list[ServerSentEvent], int, str | None]:
    """What is new since `after` (and the state, when it is not `told_state`), read in one
    short transaction; None for a conversation that does not exist."""
    async with site.shop().transaction() as session:
        handoff = await session.get(HandoffRequest, handoff_id)
        if handoff is None:
            return [], after, None
        name = await _shopper_name(session, handoff)
        lines = [Line.of(entry, name) for entry in await talk.transcript(
            session=session, handoff_id=handoff_id, after_id=after)]
        state = state_key(handoff)
        said = state_text(handoff, await _holder(session, handoff))
    events = [ServerSentEvent(id=str(line.id), event="entry", data=line.to_json())
              for line in lines]
    if state != told_state:
        events.append(ServerSentEvent(event="state", data={
            "state": state_of(handoff), "key": state, "text": said}))
    return events, max([after, *(line.id for line in lines)]), state


@router.get("/handoffs/{handoff_id}/live", response_class=EventSourceResponse)
async def conversation_live(request: Request, handoff_id: int,
                            user: Annotated[User, Depends(live.stream_slot, scope="request")],
                            after: Annotated[str | None, Query(max_length=20)] = None,
                            last_event_id: Annotated[str | None, Header(max_length=20)] = None,
                            ) -> AsyncIterator[ServerSentEvent]:
    site = console(request)
    shop = site.shop()
    loop = asyncio.get_running_loop()
    ends, check = loop.time() + site.live_seconds, loop.time() + CHECK_SECONDS
    start = _start(after, last_event_id)
    told: str | None = None
    with shop.newsroom.listening() as heard:
        yield ServerSentEvent(comment="a support conversation", retry=live.RETRY_MS)
        while True:
            events, start, state = await _news(site, handoff_id, start, told)
            if state is None:
                return  # no such conversation: nothing to follow
            told = state
            for event in events:
                yield event
            moment = loop.time()
            if moment >= ends or shop.closing.is_set():
                return
            if moment >= check:
                if await site.signed_in(request) is None:
                    return
                check = moment + CHECK_SECONDS
            await shop.waiting(heard.get(), min(ends, check, moment + LOOK_SECONDS) - moment)
            while not heard.empty():
                heard.get_nowait()
