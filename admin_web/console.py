"""What every page of the console shares: one `Console`, built by `create_console` and kept
on `app.state.console`, holding the settings, templates and cookie signer, with the helpers
the routes use to render pages, check forms and find who is signed in.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from core.accounts import second_factor, staff
from core.accounts.models import Role, User
from core.audit import news
from core.audit.actor import Actor, Channel
from core.config import Settings
from core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from core.inventory import service as inventory
from core.money import format_amount
from core.shop import Shop
from core.support import service as support

HERE = Path(__file__).parent
SESSION, PENDING, CSRF = "cc_session", "cc_pending", "cc_csrf"
PENDING_SECONDS = int(second_factor.PENDING_LIFETIME.total_seconds())


def console(request: Request) -> Console:
    """The console serving `request`. Mounted under /admin, `request.app` is still the
    console's own app: each Starlette app puts itself in the scope as it is called."""
    return request.app.state.console


def page_link(request: Request, number: int) -> str:
    """This list at page `number`, its filters kept (relative: the path stays as it is)."""
    return "?" + urlencode({**request.query_params, "page": str(number)})


STATUS = {InvalidInput: 400, Forbidden: 403, NotFound: 404, Conflict: 409}


def status_of(problem: DomainError) -> int:
    """The HTTP status a refused rule is answered with (the page still explains it)."""
    return next((code for kind, code in STATUS.items() if isinstance(problem, kind)), 400)


def money(amount: int, currency: str) -> str:
    return format_amount(amount, currency)


def _bytes(text: str) -> bytes:
    """Text to compare in constant time (compare_digest takes str only when it is ASCII)."""
    return text.encode("utf-8", "surrogatepass")


def actor(user: User) -> Actor:
    return Actor(Channel.ADMIN, user_id=user.id, label=user.email)


class Console:
    def __init__(self, settings: Settings, running_shop: Callable[[], Shop]) -> None:
        self.settings = settings
        self.running_shop = running_shop
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.signer = URLSafeTimedSerializer(settings.secret_key, salt="chatcart.console")
        self.secure = settings.base_url.startswith("https://")
        self.live_seconds = 600.0  # a live stream's life before the browser reconnects

    def shop(self) -> Shop:
        return self.running_shop()

    @staticmethod
    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    def page(self, request: Request, name: str, status: int = 200,
             **values: Any) -> HTMLResponse:
        token = request.cookies.get(CSRF) or secrets.token_urlsafe(24)
        response = self.templates.TemplateResponse(request, name, {
            "root": self.root(request), "csrf": token, "user": None, "error": None,
            "counts": getattr(request.state, "counts", {}),
            "news_after": getattr(request.state, "news_after", 0),
            "page_link": lambda number: page_link(request, number), **values},
            status_code=status)
        if request.cookies.get(CSRF) != token:
            self.set_cookie(response, request, CSRF, token, None)
        return response

    def set_cookie(self, response: Response, request: Request, name: str, value: str,
                   max_age: int | None) -> None:
        response.set_cookie(name, value, max_age=max_age, path=self.root(request) or "/",
                            httponly=True, samesite="strict", secure=self.secure)

    def go(self, request: Request, where: str) -> RedirectResponse:
        return RedirectResponse(f"{self.root(request)}{where}", status_code=303)

    async def posted(self, request: Request) -> FormData | None:
        """The posted form (files too), or None when its CSRF token does not match the
        cookie's: the one place every form is checked."""
        data = await request.form()
        cookie = request.cookies.get(CSRF, "")
        sent = data.get("csrf", "")
        if not cookie or not isinstance(sent, str) or not hmac.compare_digest(
                _bytes(cookie), _bytes(sent)):
            return None
        return data

    async def form(self, request: Request) -> dict[str, str] | None:
        """The posted text fields, or None when the CSRF token is wrong."""
        data = await self.posted(request)
        return None if data is None else {k: v for k, v in data.items() if isinstance(v, str)}

    async def awaiting(self, request: Request) -> tuple[dict[str, str], str] | Response:
        """A form posted between password and session: its fields and the pending sign-in's
        token from its cookie (checked by core/accounts/second_factor.py, which finds no
        sign-in for a token it did not issue), else the response that refuses the form."""
        data = await self.form(request)
        if data is None:
            return self.refused(request)
        return data, self.pending(request)

    def refused(self, request: Request) -> HTMLResponse:
        return self.page(request, "login.html", 403, email="",
                         error="This form has expired. Please try again.")

    @staticmethod
    def pending(request: Request) -> str:
        """The pending sign-in cookie's token, as sent (whatever it holds)."""
        return request.cookies.get(PENDING, "")

    async def signed_in(self, request: Request) -> User | None:
        try:
            token = self.signer.loads(request.cookies.get(SESSION, ""),
                                      max_age=int(staff.SESSION_IDLE.total_seconds()))
        except BadSignature:
            return None
        async with self.shop().transaction() as session:
            user = await staff.session_user(session=session, token=str(token),
                                            secret_key=self.settings.secret_key)
            if user is not None:
                session.expunge(user)
        return user

    async def start_session(self, request: Request, user: User,
                            response: Response) -> Response:
        """Sign `user` in: a new session row, its cookie on `response`, the pending one gone."""
        async with self.shop().transaction() as session:
            fresh = await session.get(User, user.id)
            assert fresh is not None
            token = await staff.open_session(session=session, user=fresh,
                                             secret_key=self.settings.secret_key,
                                             actor=actor(fresh))
        self.set_cookie(response, request, SESSION, self.signer.dumps(token), None)
        response.delete_cookie(PENDING, path=self.root(request) or "/")
        return response

    async def staff_only(self, request: Request, *roles: Role) -> User | Response:
        """The signed-in staff member, else a redirect to sign in (or 403 for the wrong role,
        decided here on the server, whatever the page showed)."""
        user = await self.signed_in(request)
        if user is None:
            return self.go(request, "/login")
        async with self.shop().transaction() as session:
            request.state.counts = await self.counts(session)
            request.state.news_after = await news.latest_id(session=session)
        if roles and user.role not in roles:
            return self.page(request, "base.html", 403, user=user,
                             error="Your role does not allow that.")
        return user

    @staticmethod
    async def counts(session: AsyncSession) -> dict[str, int]:
        """The nav's badges (kept current on open pages by admin_web/live.py)."""
        return {"low_stock": await inventory.low_count(session=session),
                "handoffs": await support.waiting_count(session=session)}

    async def uploading(self, request: Request,
                        *roles: Role) -> tuple[User, FormData] | Response:
        """A posted form, files and all: the staff member allowed to send it and the form,
        checked for its CSRF token; else the response that refuses it."""
        data = await self.posted(request)
        user = await self.staff_only(request, *roles)
        if not isinstance(user, User):
            return user
        if data is None:
            return self.refused(request)
        return user, data

    async def acting(self, request: Request,
                     *roles: Role) -> tuple[User, dict[str, str]] | Response:
        """A posted action (text fields only), as `uploading` checks it."""
        checked = await self.uploading(request, *roles)
        if isinstance(checked, Response):
            return checked
        user, data = checked
        return user, {k: v for k, v in data.items() if isinstance(v, str)}
