"""Support requests: shoppers who asked for a person, oldest first, each linked to its
conversation (admin_web/conversation.py) with its state and how long the shopper has
waited; staff take and resolve them here too (core keeps one holder per conversation, so
two people never answer one shopper), and see the shoppers' ratings per agent and overall."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin_web import conversation
from admin_web.console import actor, console, status_of
from core.accounts.models import Role, User
from core.clock import now
from core.errors import DomainError
from core.support import conversations as talk
from core.support import service as support

router = APIRouter()
STAFF = (Role.ADMIN, Role.SUPPORT)


def waited(since: timedelta) -> str:
    """How long, the way staff say it: "just now", "12 min", "3 h 5 min", "2 days"."""
    minutes = int(since.total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} days"


def tenths(ratings: talk.Ratings) -> str:
    value = ratings.tenths
    return "—" if value is None else f"{value // 10}.{value % 10}"


async def inbox(request: Request, user: User, status: int = 200,
                error: str | None = None) -> Response:
    site = console(request)
    async with site.shop().transaction() as session:
        waiting = await support.handoffs(session=session)
        closed = await support.handoffs(session=session, closed=True, limit=20)
        ratings = await talk.ratings_summary(session=session)
        session.expunge_all()
    moment = now()
    return site.page(request, "handoffs.html", status, user=user, waiting=waiting,
                     closed=closed, error=error, ratings=ratings, tenths=tenths,
                     waited=lambda item: waited(moment - item.request.created_at))


@router.get("/handoffs", response_model=None)
async def handoffs(request: Request) -> Response:
    user = await console(request).staff_only(request, *STAFF)
    if not isinstance(user, User):
        return user
    return await inbox(request, user)


@router.post("/handoffs/{request_id}/{change}", response_model=None)
async def change_handoff(request: Request, request_id: int, change: str) -> Response:
    """Take or resolve ("close", the older name, resolves too), from the inbox or from the
    conversation's page (`back=conversation`), where a refusal is shown by the buttons."""
    site = console(request)
    checked = await site.acting(request, *STAFF)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    if change not in ("take", "resolve", "close"):
        return site.page(request, "base.html", 404, user=user, error="No such change.")
    back = data.get("back") == "conversation"
    try:
        async with site.shop().transaction() as session:
            if change == "take":
                await talk.take(session=session, handoff_id=request_id, staff_id=user.id,
                                actor=actor(user))
            else:
                await talk.resolve(session=session, handoff_id=request_id, staff_id=user.id,
                                   actor=actor(user))
    except DomainError as problem:
        if back:
            return await conversation.draw(request, user, request_id, status_of(problem),
                              action_error=problem.message)
        return await inbox(request, user, status_of(problem), problem.message)
    return site.go(request, f"/handoffs/{request_id}" if back else "/handoffs")
