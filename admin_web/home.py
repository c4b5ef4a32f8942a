"""The home page: takings, best sellers, open handoffs and what is running low."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin_web.console import console
from core.accounts.models import User
from core.money import format_amount
from core.orders import reports

router = APIRouter()


@router.get("/", response_model=None)
async def home(request: Request) -> Response:
    site = console(request)
    user = await site.staff_only(request)
    if not isinstance(user, User):
        return user
    running = site.shop()
    currency = running.settings.shop_currency
    async with running.transaction() as session:
        board = await reports.dashboard(session=session, currency=currency)
    return site.page(request, "home.html", user=user, board=board,
                     money=lambda amount: format_amount(amount, currency))
