"""The audit log: recent events, filtered by action and subject; admins only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin_web.console import console
from core.accounts.models import Role, User
from core.audit import service as audit

router = APIRouter()


@router.get("/audit", response_model=None)
async def audit_page(request: Request, action: str = "", subject: str = "") -> Response:
    site = console(request)
    user = await site.staff_only(request, Role.ADMIN)
    if not isinstance(user, User):
        return user
    async with site.shop().transaction() as session:
        events = await audit.recent(session=session, action=action, subject_type=subject)
    return site.page(request, "audit.html", user=user, events=events, action=action[:64],
                     subject=subject, subjects=["order", "user", "product", "cart"])
