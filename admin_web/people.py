"""People: customers (support may look them up) and staff (admins only), one person's page
with the chats linked to them and their orders, and admins' changes to roles and access
(unlocking an account that too many wrong sign-in codes locked among them)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from admin_web import forms
from admin_web.console import actor, console, money, status_of
from core.accounts import identities, second_factor
from core.accounts import service as accounts
from core.accounts.models import Role, User
from core.errors import DomainError, InvalidInput
from core.orders import service as orders
from core.orders.states import LABELS

router = APIRouter()
READERS = (Role.ADMIN, Role.SUPPORT)


def visible(person: User, viewer: User) -> bool:
    """Support see customers; staff accounts exist for them only as far as admins say."""
    return viewer.role is Role.ADMIN or person.role is Role.CUSTOMER


async def customer(session: AsyncSession, text: str, viewer: User) -> User | None:
    """The account `text` names (an id from a link, or an email), if `viewer` may see it;
    None for anything else, a half-typed email included."""
    number = forms.ident(text)
    try:
        found = (await session.get(User, number) if number is not None
                 else await accounts.get_by_email(session=session, email=text))
    except InvalidInput:  # not an email address at all
        return None
    return found if found is not None and visible(found, viewer) else None


@router.get("/users", response_model=None)
async def users_page(request: Request, q: str = "", role: str = "",
                     page: str = "1") -> Response:
    user = await console(request).staff_only(request, *READERS)
    if not isinstance(user, User):
        return user
    return await people_page(request, user, q=q, role=role, page=page)


async def people_page(request: Request, user: User, status: int = 200,
                      error: str | None = None, q: str = "", role: str = "",
                      page: str = "1") -> Response:
    site = console(request)
    wanted = Role(role) if role in Role._value2member_map_ else None
    if user.role is not Role.ADMIN:
        wanted = Role.CUSTOMER
    async with site.shop().transaction() as session:
        found = await accounts.people(session=session, text=q, role=wanted,
                                      page=forms.page(page))
        session.expunge_all()
    return site.page(request, "users.html", status, user=user, found=found, error=error,
                     q=q[:100], role=wanted.value if wanted else "",
                     roles=[role.value for role in Role], can_edit=user.role is Role.ADMIN)


@router.get("/users/{user_id}", response_model=None)
async def person_page(request: Request, user_id: int) -> Response:
    site = console(request)
    user = await site.staff_only(request, *READERS)
    if not isinstance(user, User):
        return user
    async with site.shop().transaction() as session:
        person = await session.get(User, user_id)
        if person is None or not visible(person, user):  # 404 either way: nothing leaks
            return site.page(request, "base.html", 404, user=user, error="No such person.")
        chats = await identities.for_user(session=session, user_id=person.id)
        recent = await orders.search(session=session, customer_id=person.id, per_page=10)
        session.expunge_all()
    return site.page(request, "person.html", user=user, person=person, chats=chats,
                     recent=recent, money=money, labels=LABELS,
                     can_edit=user.role is Role.ADMIN)


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
            elif change == "unlock":
                await second_factor.unlock(session=session, user_id=user_id, actor=actor(user))
            else:
                return site.page(request, "base.html", 404, user=user, error="No such change.")
    except DomainError as problem:
        return await people_page(request, user, status_of(problem), problem.message)
    return site.go(request, f"/users/{user_id}" if data.get("back") == "person" else "/users")
