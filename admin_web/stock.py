"""Stock: on hand, reserved and available per product, the units held for orders awaiting
payment, and admins' adjustments, each with a reason."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin_web import forms
from admin_web.console import actor, console, status_of
from core.accounts.models import Role, User
from core.errors import DomainError, InvalidInput
from core.inventory import service as inventory

router = APIRouter()


@router.get("/inventory", response_model=None)
async def inventory_page(request: Request, low: str = "", q: str = "") -> Response:
    user = await console(request).staff_only(request)
    if not isinstance(user, User):
        return user
    return await stock_page(request, user, low_only=bool(low), q=q)


async def stock_page(request: Request, user: User, low_only: bool = False, q: str = "",
                     status: int = 200, error: str | None = None) -> Response:
    site = console(request)
    async with site.shop().transaction() as session:
        rows = await inventory.overview(session=session, low_only=low_only, text=q)
        held = await inventory.in_flight(session=session)
        session.expunge_all()
    return site.page(request, "inventory.html", status, user=user, rows=rows, error=error,
                     held=held, low_only=low_only, q=q[:100],
                     can_adjust=user.role is Role.ADMIN)


@router.post("/inventory/{product_id}", response_model=None)
async def adjust_stock(request: Request, product_id: int) -> Response:
    site = console(request)
    checked = await site.acting(request, Role.ADMIN)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    if not data.get("delta", "").strip():
        return await stock_page(request, user, status=400,
                                error="The change is a whole number, like +10 or -2.")
    try:
        delta = forms.whole(data.get("delta", ""), "The change")
    except InvalidInput as problem:
        return await stock_page(request, user, status=400, error=problem.message)
    try:
        async with site.shop().transaction() as session:
            await inventory.adjust(session=session, product_id=product_id, delta=delta,
                                   reason=data.get("reason", ""), actor=actor(user))
    except DomainError as problem:
        return await stock_page(request, user, status=status_of(problem), error=problem.message)
    return site.go(request, "/inventory")
