"""Categories: the tree shoppers browse (two levels), with how many products each holds;
admins add, rename and remove empty ones through core's catalog rules."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin_web.console import actor, console, status_of
from core.accounts.models import Role, User
from core.catalog import service as catalog
from core.errors import DomainError

router = APIRouter()


async def tree_page(request: Request, user: User, status: int = 200,
                    error: str | None = None) -> Response:
    site = console(request)
    async with site.shop().transaction() as session:
        tree = await catalog.category_tree(session=session)
        session.expunge_all()
    return site.page(request, "categories.html", status, user=user, tree=tree, error=error,
                     can_edit=user.role is Role.ADMIN)


@router.get("/categories", response_model=None)
async def categories(request: Request) -> Response:
    user = await console(request).staff_only(request)
    if not isinstance(user, User):
        return user
    return await tree_page(request, user)


@router.post("/categories", response_model=None)
async def add_category(request: Request) -> Response:
    return await _change(request, None, "add")


@router.post("/categories/{category_id}/{change}", response_model=None)
async def change_category(request: Request, category_id: int, change: str) -> Response:
    return await _change(request, category_id, change)


async def _change(request: Request, category_id: int | None, change: str) -> Response:
    """Add ("Parent > Name"), rename or delete, by an admin, through core's catalog rules."""
    site = console(request)
    checked = await site.acting(request, Role.ADMIN)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    if change not in ("add", "rename", "delete") or (change == "add") != (category_id is None):
        return site.page(request, "base.html", 404, user=user, error="No such change.")
    try:
        async with site.shop().transaction() as session:
            if category_id is None:
                await catalog.ensure_category(session=session, path=data.get("path", ""),
                                              actor=actor(user))
            elif change == "rename":
                await catalog.rename_category(session=session, category_id=category_id,
                                              name=data.get("name", ""), actor=actor(user))
            else:
                await catalog.delete_category(session=session, category_id=category_id,
                                              actor=actor(user))
    except DomainError as problem:
        return await tree_page(request, user, status_of(problem), problem.message)
    return site.go(request, "/categories")
