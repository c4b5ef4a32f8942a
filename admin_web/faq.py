"""The FAQ the bot answers from: support and admins add, edit, publish or hide entries."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin_web.console import actor, console, status_of
from core.accounts.models import Role, User
from core.errors import DomainError
from core.support import service as support

router = APIRouter()


async def faq_page(request: Request, user: User, status: int = 200,
                   error: str | None = None) -> Response:
    site = console(request)
    async with site.shop().transaction() as session:
        entries = await support.all_faq(session=session)
        session.expunge_all()
    return site.page(request, "faq.html", status, user=user, entries=entries, error=error)


@router.get("/faq", response_model=None)
async def faq(request: Request) -> Response:
    user = await console(request).staff_only(request, Role.ADMIN, Role.SUPPORT)
    if not isinstance(user, User):
        return user
    return await faq_page(request, user)


@router.post("/faq", response_model=None)
async def add_faq(request: Request) -> Response:
    return await _save(request, None)


@router.post("/faq/{entry_id}", response_model=None)
async def edit_faq(request: Request, entry_id: int) -> Response:
    return await _save(request, entry_id)


async def _save(request: Request, entry_id: int | None) -> Response:
    """A new question, or changes to one (support and admins), through core's FAQ rules."""
    site = console(request)
    checked = await site.acting(request, Role.ADMIN, Role.SUPPORT)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    try:
        async with site.shop().transaction() as session:
            if entry_id is None:
                await support.add_faq(session=session, question=data.get("question", ""),
                                      answer=data.get("answer", ""), actor=actor(user),
                                      keywords=data.get("keywords", ""))
            else:
                await support.update_faq(
                    session=session, entry_id=entry_id, actor=actor(user),
                    question=data.get("question", ""), answer=data.get("answer", ""),
                    keywords=data.get("keywords", ""), published="published" in data)
    except DomainError as problem:
        return await faq_page(request, user, status_of(problem), problem.message)
    return site.go(request, "/faq")
