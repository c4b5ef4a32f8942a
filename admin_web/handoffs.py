"""Support requests: shoppers who asked for a person, oldest first, and staff taking and
closing them (core keeps one taker per request, so two people never answer one shopper)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin_web.console import actor, console, status_of
from core.accounts.models import Role, User
from core.errors import DomainError
from core.support import service as support

router = APIRouter()
STAFF = (Role.ADMIN, Role.SUPPORT)


async def inbox(request: Request, user: User, status: int = 200,
                error: str | None = None) -> Response:
    site = console(request)
    async with site.shop().transaction() as session:
        waiting = await support.handoffs(session=session)
        closed = await support.handoffs(session=session, closed=True, limit=20)
        session.expunge_all()
    return site.page(request, "handoffs.html", status, user=user, waiting=waiting,
                     closed=closed, error=error)


@router.get("/handoffs", response_model=None)
async def handoffs(request: Request) -> Response:
    user = await console(request).staff_only(request, *STAFF)
    if not isinstance(user, User):
        return user
    return await inbox(request, user)


@router.post("/handoffs/{request_id}/{change}", response_model=None)
async def change_handoff(request: Request, request_id: int, change: str) -> Response:
    site = console(request)
    checked = await site.acting(request, *STAFF)
    if isinstance(checked, Response):
        return checked
    user, _ = checked
    if change not in ("take", "close"):
        return site.page(request, "base.html", 404, user=user, error="No such change.")
    try:
        async with site.shop().transaction() as session:
            if change == "take":
                await support.take_handoff(session=session, request_id=request_id,
                                           staff_id=user.id, actor=actor(user))
            else:
                await support.close_handoff(session=session, request_id=request_id,
                                            actor=actor(user))
    except DomainError as problem:
        return await inbox(request, user, status_of(problem), problem.message)
    return site.go(request, "/handoffs")
