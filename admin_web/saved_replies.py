"""Saved replies: support and admins add, edit and delete the answers they pick in a
conversation's reply box (admin_web/conversation.py), through core's rules."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin_web import forms
from admin_web.console import actor, console, status_of
from core.accounts.models import Role, User
from core.errors import DomainError
from core.support import saved_replies

router = APIRouter()
STAFF = (Role.ADMIN, Role.SUPPORT)


async def saved_page(request: Request, user: User, status: int = 200,
                     error: str | None = None, title: str = "", text: str = "") -> Response:
    site = console(request)
    async with site.shop().transaction() as session:
        replies = await saved_replies.all_replies(session=session)
        session.expunge_all()
    return site.page(request, "saved_replies.html", status, user=user, replies=replies,
                     error=error, title=title[:saved_replies.MAX_TITLE],
                     text=text[:saved_replies.MAX_TEXT], title_limit=saved_replies.MAX_TITLE,
                     text_limit=saved_replies.MAX_TEXT)


@router.get("/saved-replies", response_model=None)
async def saved(request: Request) -> Response:
    user = await console(request).staff_only(request, *STAFF)
    if not isinstance(user, User):
        return user
    return await saved_page(request, user)


@router.post("/saved-replies", response_model=None)
async def add(request: Request) -> Response:
    return await _change(request, None, "save")


@router.post("/saved-replies/{reply_id}/{change}", response_model=None)
async def change(request: Request, reply_id: int, change: str) -> Response:
    return await _change(request, reply_id, change)


async def _change(request: Request, reply_id: int | None, change: str) -> Response:
    site = console(request)
    checked = await site.acting(request, *STAFF)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    if change not in ("save", "delete"):
        return site.page(request, "base.html", 404, user=user, error="No such change.")
    title = forms.bounded(data.get("title", ""), saved_replies.MAX_TITLE)
    text = forms.bounded(data.get("text", ""), saved_replies.MAX_TEXT)
    try:
        async with site.shop().transaction() as session:
            if reply_id is None:
                await saved_replies.add(session=session, title=title, text=text,
                                        staff_id=user.id, actor=actor(user))
            elif change == "save":
                await saved_replies.update(session=session, reply_id=reply_id, title=title,
                                           text=text, actor=actor(user))
            else:
                await saved_replies.delete(session=session, reply_id=reply_id,
                                           actor=actor(user))
    except DomainError as problem:
        return await saved_page(request, user, status_of(problem), problem.message,
                                *((title, text) if reply_id is None else ()))
    return site.go(request, "/saved-replies")
