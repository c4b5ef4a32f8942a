"""Returns shoppers asked for: the list (waiting first), one return with its items, the
shopper's words and photos, and staff's steps: approve with instructions or refuse with
a reason (support and admins), mark received (restocking too: admins, as every stock
change), and refund (admins: it moves money, through the orders' refund by lines). Each
step is core's (checked, idempotent, audited, told to the shopper's chat)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin_web import forms
from admin_web.console import actor, console, money, status_of
from core.accounts.models import Role, User
from core.audit import service as audit
from core.catalog.images import ImageStorage
from core.errors import DomainError
from core.orders import service as orders
from core.returns import photos
from core.returns import service as returns
from core.returns.states import ReturnStatus, label

router = APIRouter()
STAFF = (Role.ADMIN, Role.SUPPORT)
ACTIONS = {"approve": STAFF, "refuse": STAFF, "receive": STAFF, "refund": (Role.ADMIN,)}
# Restocking changes stock, which only admins do (as on the stock and order pages).
RESTOCK_ADMINS_ONLY = ("Only an admin can put returned units back on the shelf: it changes "
                       "the stock. Mark the parcel received without restocking, or ask an "
                       "admin.")


@router.get("/returns", response_model=None)
async def returns_page(request: Request, status: str = "", page: str = "1") -> Response:
    site = console(request)
    user = await site.staff_only(request, *STAFF)
    if not isinstance(user, User):
        return user
    wanted = ReturnStatus(status) if status in ReturnStatus._value2member_map_ else None
    async with site.shop().transaction() as session:
        found = await returns.search(session=session, status=wanted, page=forms.page(page))
        numbers = {ret.order_id: (await orders.get(session=session, order_id=ret.order_id)
                                  ).number for ret in found.items}
    return site.page(request, "returns.html", user=user, found=found, numbers=numbers,
                     chosen=wanted.value if wanted else "", label=label,
                     statuses=[(s.value, label(s)) for s in ReturnStatus])


async def return_page(request: Request, return_id: int, user: User, status: int = 200,
                      error: str | None = None) -> Response:
    site = console(request)
    running = site.shop()
    async with running.transaction() as session:
        try:
            ret = await returns.get(session=session, return_id=return_id)
        except DomainError:
            return site.page(request, "base.html", 404, user=user, error="No such return.")
        order = await orders.get(session=session, order_id=ret.order_id)
        lines = {line.id: line for line in order.lines}
        items = [(lines[item.order_line_id], item.quantity) for item in ret.lines]
        history = await audit.history(session=session, subject_type="return",
                                      subject_id=ret.id)
        details = returns.opened(ret.details_sealed, running.vault)
        answer = returns.opened(ret.answer_sealed, running.vault)
    return site.page(request, "return.html", status, user=user, ret=ret, order=order,
                     items=items, events=history, details=details, answer=answer,
                     money=money, label=label, error=error,
                     can_refund=user.role is Role.ADMIN,
                     can_restock=user.role is Role.ADMIN)


@router.get("/returns/{return_id}", response_model=None)
async def return_detail(request: Request, return_id: int) -> Response:
    user = await console(request).staff_only(request, *STAFF)
    if not isinstance(user, User):
        return user
    return await return_page(request, return_id, user)


@router.get("/returns/{return_id}/photos/{photo_id}", response_model=None)
async def return_photo(request: Request, return_id: int, photo_id: int) -> Response:
    """A shopper's photo, for staff only (the files are not under the public /media)."""
    site = console(request)
    user = await site.staff_only(request, *STAFF)
    if not isinstance(user, User):
        return user
    async with site.shop().transaction() as session:
        try:
            ret = await returns.get(session=session, return_id=return_id)
        except DomainError:
            ret = None
        photo = next((p for p in ret.photos if p.id == photo_id), None) if ret else None
        if photo is None:
            return site.page(request, "base.html", 404, user=user, error="No such photo.")
        key, kind = photo.storage_key, photo.content_type
    storage: ImageStorage = photos.storage(site.settings)
    try:
        data = storage.read(key)
    except (OSError, ValueError):
        return site.page(request, "base.html", 404, user=user, error="That photo is gone.")
    return Response(data, media_type=kind)


@router.post("/returns/{return_id}/{action}", response_model=None)
async def return_action(request: Request, return_id: int, action: str) -> Response:
    site = console(request)
    checked = await site.acting(request, *ACTIONS.get(action, STAFF))
    if isinstance(checked, Response):
        return checked
    user, data = checked
    if action not in ACTIONS:
        return site.page(request, "base.html", 404, user=user, error="No such action.")
    if action == "receive" and "restock" in data and user.role is not Role.ADMIN:
        return await return_page(request, return_id, user, 403, RESTOCK_ADMINS_ONLY)
    running = site.shop()
    who = actor(user)
    try:
        async with running.transaction() as session:
            if action == "approve":
                await returns.approve(session=session, return_id=return_id, actor=who,
                                      instructions=data.get("instructions", ""),
                                      vault=running.vault)
            elif action == "refuse":
                await returns.refuse(session=session, return_id=return_id, actor=who,
                                     reason=data.get("reason", ""), vault=running.vault)
            elif action == "receive":
                await returns.receive(session=session, return_id=return_id, actor=who,
                                      restock="restock" in data)
            else:
                await returns.refund(session=session, return_id=return_id, actor=who,
                                     gateways=running.gateways)
    except DomainError as problem:  # refused: nothing changed, the reason is shown
        return await return_page(request, return_id, user, status_of(problem), problem.message)
    return site.go(request, f"/returns/{return_id}")
