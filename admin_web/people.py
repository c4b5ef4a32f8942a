"""People: staff and customers, where admins change roles and disable or enable accounts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin_web.console import actor, console
from core.accounts import service as accounts
from core.accounts.models import Role, User
from core.errors import DomainError

router = APIRouter()


@router.get("/users", response_model=None)
async def users_page(request: Request) -> Response:
    user = await console(request).staff_only(request, Role.ADMIN)
    if not isinstance(user, User):
        return user
    return await people_page(request, user)


async def people_page(request: Request, user: User, status: int = 200,
                      error: str | None = None) -> Response:
    site = console(request)
    async with site.shop().transaction() as session:
        people = await accounts.staff_and_customers(session=session)
        session.expunge_all()
    return site.page(request, "users.html", status, user=user, people=people, error=error,
                     roles=[role.value for role in Role])


@router.post("/users/{user_id}/{change}", response_model=None)
async def change_user(request: Request, user_id: int, change: str) -> Response:
    site = console(request)
    checked = await site.acting(request, Role.ADMIN)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    try:
        async with site.shop().transaction() as session:
            if change == "role":
                await accounts.set_role(session=session, user_id=user_id, actor=actor(user),
                                        role=accounts.parse_role(data.get("role", "")))
            elif change in ("enable", "disable"):
                await accounts.set_active(session=session, user_id=user_id,
                                          active=change == "enable", actor=actor(user))
            else:
                return site.page(request, "base.html", 404, user=user, error="No such change.")
    except DomainError as problem:
        return await people_page(request, user, 409, problem.message)
    return site.go(request, "/users")
