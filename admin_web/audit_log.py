"""The audit log: who did what, when; filtered by action, subject, person and dates, newest
first, 100 a page; admins only."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin_web import forms
from admin_web.console import console
from core.accounts.models import Role, User
from core.audit import service as audit

router = APIRouter()
SUBJECTS = ["order", "product", "category", "user", "cart", "faq", "handoff"]


@router.get("/audit", response_model=None)
async def audit_page(request: Request, action: str = "", subject: str = "", who: str = "",
                     since: str = "", until: str = "", page: str = "1") -> Response:
    site = console(request)
    user = await site.staff_only(request, Role.ADMIN)
    if not isinstance(user, User):
        return user
    first, last = forms.day(since), forms.day(until)
    async with site.shop().transaction() as session:
        found = await audit.recent(session=session, action=action, subject_type=subject,
                                   who=who, since=first, page=forms.page(page),
                                   until=last + timedelta(days=1) if last else None)
    return site.page(request, "audit.html", user=user, found=found, action=action[:64],
                     subject=subject, subjects=SUBJECTS, who=who[:120],
                     since=first.date().isoformat() if first else "",
                     until=last.date().isoformat() if last else "")
