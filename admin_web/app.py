"""The console: a FastAPI app that `chatcart serve` mounts at /admin (found through the
`chatcart.consoles` entry point, so bot/ never imports it). It is handed the running shop
and changes it only through core's services.

Sign-in is password, then a TOTP code (admins must enrol; support may). Sessions live in
signed, HttpOnly, SameSite=Strict cookies backed by revocable rows; every form carries a
CSRF token matched against its cookie; pages send a strict CSP and no inline script.
"""

from __future__ import annotations

import hmac
import secrets
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import segno
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from core.accounts import service as accounts
from core.accounts import staff
from core.accounts.models import Role, User
from core.audit import service as audit
from core.audit.actor import Actor, Channel
from core.catalog import importer
from core.catalog import service as catalog
from core.catalog.errors import CatalogError
from core.catalog.images import MAX_BYTES as MAX_IMAGE
from core.catalog.images import check_image
from core.catalog.models import ProductStatus
from core.checkout.addresses import Address
from core.config import Settings
from core.errors import DomainError, InvalidInput
from core.inventory import service as inventory
from core.money import currency_exponent, format_amount, parse_amount
from core.orders import reports
from core.orders import service as orders
from core.orders.errors import OrderError
from core.orders.states import LABELS, OrderStatus
from core.payments import service as payments
from core.payments.models import Payment
from core.shop import Shop
from core.support import service as support

HERE = Path(__file__).parent
SESSION, PENDING, CSRF = "cc_session", "cc_pending", "cc_csrf"
PENDING_SECONDS = 600
MAX_IMPORT = 5 * 1024 * 1024
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
}


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response


def create_console(settings: Settings, running_shop: Callable[[], Shop]) -> FastAPI:
    """The console app; `running_shop()` gives the serving process's shop (built at start)."""
    app = FastAPI(title="Chatcart console", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    signer = URLSafeTimedSerializer(settings.secret_key, salt="chatcart.console")
    secure = settings.base_url.startswith("https://")

    def shop(request: Request) -> Shop:
        return running_shop()

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    def page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        token = request.cookies.get(CSRF) or secrets.token_urlsafe(24)
        response = templates.TemplateResponse(request, name, {
            "root": root(request), "csrf": token, "user": None, "error": None,
            "low_stock": getattr(request.state, "low_stock", None), **values},
            status_code=status)
        if request.cookies.get(CSRF) != token:
            _cookie(response, request, CSRF, token, None)
        return response

    def _cookie(response: Response, request: Request, name: str, value: str,
                max_age: int | None) -> None:
        response.set_cookie(name, value, max_age=max_age, path=root(request) or "/",
                            httponly=True, samesite="strict", secure=secure)

    def go(request: Request, where: str) -> RedirectResponse:
        return RedirectResponse(f"{root(request)}{where}", status_code=303)

    async def posted(request: Request) -> FormData | None:
        """The posted form (files too), or None when its CSRF token does not match the
        cookie's: the one place every form is checked."""
        data = await request.form()
        cookie = request.cookies.get(CSRF, "")
        if not cookie or not hmac.compare_digest(cookie, str(data.get("csrf", ""))):
            return None
        return data

    async def form(request: Request) -> dict[str, str] | None:
        """The posted text fields, or None when the CSRF token is wrong."""
        data = await posted(request)
        return None if data is None else {k: v for k, v in data.items() if isinstance(v, str)}

    async def awaiting(request: Request, stage: str) -> tuple[dict[str, str], int] | Response:
        """A form posted between password and session (`stage` "code" or "enrol"): its
        fields and the user it is for, else the response that sends them back."""
        data = await form(request)
        if data is None:
            return refused(request)
        user_id = pending(request, stage)
        if user_id is None:
            return go(request, "/login")
        return data, user_id

    def refused(request: Request) -> HTMLResponse:
        return page(request, "login.html", 403, email="",
                    error="This form has expired. Please try again.")

    def pending(request: Request, stage: str) -> int | None:
        try:
            data = signer.loads(request.cookies.get(PENDING, ""), max_age=PENDING_SECONDS)
        except BadSignature:
            return None
        return int(data["user"]) if data.get("stage") == stage else None

    async def signed_in(request: Request) -> User | None:
        try:
            token = signer.loads(request.cookies.get(SESSION, ""),
                                 max_age=int(staff.SESSION_IDLE.total_seconds()))
        except BadSignature:
            return None
        async with shop(request).transaction() as session:
            user = await staff.session_user(session=session, token=str(token),
                                            secret_key=settings.secret_key)
            if user is not None:
                session.expunge(user)
        return user

    def actor(user: User) -> Actor:
        return Actor(Channel.ADMIN, user_id=user.id, label=user.email)

    async def start_session(request: Request, user: User, response: Response) -> Response:
        """Sign `user` in: a new session row, its cookie on `response`, the pending one gone."""
        async with shop(request).transaction() as session:
            fresh = await session.get(User, user.id)
            assert fresh is not None
            token = await staff.open_session(session=session, user=fresh,
                                             secret_key=settings.secret_key,
                                             actor=actor(fresh))
        _cookie(response, request, SESSION, signer.dumps(token), None)
        response.delete_cookie(PENDING, path=root(request) or "/")
        return response

    @app.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request) -> HTMLResponse:
        return page(request, "login.html", email="")

    @app.post("/login", response_model=None)
    async def login(request: Request) -> Response:
        data = await form(request)
        if data is None:
            return refused(request)
        email = data.get("email", "")
        ip = request.client.host if request.client else "-"
        async with shop(request).transaction() as session:
            try:  # failures are counted, so this transaction commits either way
                user = await staff.check_password(session=session, email=email,
                                                  password=data.get("password", ""), ip=ip)
            except DomainError as problem:
                return page(request, "login.html", 400, email=email, error=problem.message)
            session.expunge(user)
        if staff.needs_enrolment(user) or staff.has_second_factor(user):
            stage = "enrol" if staff.needs_enrolment(user) else "code"
            response = go(request, "/enrol" if stage == "enrol" else "/login/code")
            _cookie(response, request, PENDING, signer.dumps({"user": user.id, "stage": stage}),
                    PENDING_SECONDS)
            return response
        return await start_session(request, user, go(request, "/"))

    @app.get("/login/code", response_model=None)
    async def code_page(request: Request) -> Response:
        if pending(request, "code") is None:
            return go(request, "/login")
        return page(request, "second_factor.html")

    @app.post("/login/code", response_model=None)
    async def code(request: Request) -> Response:
        waiting = await awaiting(request, "code")
        if isinstance(waiting, Response):
            return waiting
        data, user_id = waiting
        async with shop(request).transaction() as session:
            user = await session.get(User, user_id)
            assert user is not None
            good = await staff.verify_second_factor(
                session=session, user=user, code=data.get("code", ""), vault=shop(request).vault,
                secret_key=settings.secret_key, actor=actor(user))
            session.expunge(user)
        if not good:
            return page(request, "second_factor.html", 400,
                        error="That code is not right (or was already used).")
        return await start_session(request, user, go(request, "/"))

    def enrol_form(request: Request, secret: str, uri: str, status: int = 200,
                   error: str | None = None) -> HTMLResponse:
        qr = segno.make(uri, error="m").svg_data_uri(scale=5)
        return page(request, "enrol.html", status, secret=secret, qr=qr, error=error)

    @app.get("/enrol", response_model=None)
    async def enrol_page(request: Request) -> Response:
        user_id = pending(request, "enrol")
        if user_id is None:
            return go(request, "/login")
        async with shop(request).transaction() as session:
            user = await session.get(User, user_id)
            assert user is not None
            secret, uri = await staff.begin_enrolment(session=session, user=user,
                                                      vault=shop(request).vault)
        return enrol_form(request, secret, uri)

    @app.post("/enrol", response_model=None)
    async def enrol(request: Request) -> Response:
        waiting = await awaiting(request, "enrol")
        if isinstance(waiting, Response):
            return waiting
        data, user_id = waiting
        async with shop(request).transaction() as session:
            user = await session.get(User, user_id)
            assert user is not None
            try:
                codes = await staff.confirm_enrolment(
                    session=session, user=user, code=data.get("code", ""),
                    vault=shop(request).vault, secret_key=settings.secret_key,
                    actor=actor(user))
            except DomainError as problem:  # the same key again, to try another code
                secret, uri = staff.enrolment(user=user, vault=shop(request).vault)
                return enrol_form(request, secret, uri, 400, problem.message)
            session.expunge(user)
        return await start_session(request, user,
                                   page(request, "recovery.html", codes=codes, user=user))

    @app.get("/", response_model=None)
    async def home(request: Request) -> Response:
        user = await staff_only(request)
        if not isinstance(user, User):
            return user
        currency = shop(request).settings.shop_currency
        async with shop(request).transaction() as session:
            board = await reports.dashboard(session=session, currency=currency)
        return page(request, "home.html", user=user, board=board,
                    money=lambda amount: format_amount(amount, currency))

    async def staff_only(request: Request, *roles: Role) -> User | Response:
        """The signed-in staff member, else a redirect to sign in (or 403 for the wrong role,
        decided here on the server, whatever the page showed)."""
        user = await signed_in(request)
        if user is None:
            return go(request, "/login")
        async with shop(request).transaction() as session:
            request.state.low_stock = await inventory.low_count(session=session)
        if roles and user.role not in roles:
            return page(request, "base.html", 403, user=user,
                        error="Your role does not allow that.")
        return user

    async def acting(request: Request, *roles: Role) -> tuple[User, dict[str, str]] | Response:
        """A posted action: the staff member allowed to do it and the form, checked for its
        CSRF token; else the response that refuses it."""
        data = await form(request)
        user = await staff_only(request, *roles)
        if not isinstance(user, User):
            return user
        if data is None:
            return refused(request)
        return user, data

    def money(amount: int, currency: str) -> str:
        return format_amount(amount, currency)

    @app.get("/orders", response_model=None)
    async def orders_page(request: Request, status: str = "", q: str = "", channel: str = "",
                          since: str = "", until: str = "") -> Response:
        user = await staff_only(request)
        if not isinstance(user, User):
            return user
        wanted = OrderStatus(status) if status in OrderStatus._value2member_map_ else None
        first, last = _day(since), _day(until)
        async with shop(request).transaction() as session:
            found = await orders.search(
                session=session, status=wanted, text=q, channel=channel,
                since=first, until=last + timedelta(days=1) if last else None)
        return page(request, "orders.html", user=user, orders=found, q=q[:100],
                    chosen=wanted.value if wanted else "", money=money, labels=LABELS,
                    statuses=[(s.value, LABELS[s]) for s in OrderStatus],
                    channel=channel[:16], channels=["web", "telegram", "slack", "terminal"],
                    since=first.date().isoformat() if first else "",
                    until=last.date().isoformat() if last else "")

    async def order_page(request: Request, number: str, user: User, status: int = 200,
                         error: str | None = None) -> Response:
        async with shop(request).transaction() as session:
            try:
                order = await orders.find_by_number(session=session, text=number)
            except DomainError:
                return page(request, "base.html", 404, user=user, error="No such order.")
            found = list(await session.scalars(select(Payment).where(
                Payment.order_id == order.id).order_by(Payment.id)))
            history = await orders.events(session=session, order=order)
            address = ""
            if order.shipping_sealed:
                sealed = shop(request).vault.open(order.shipping_sealed)
                address = ", ".join(Address.from_dict(sealed).lines())
        return page(request, "order.html", status, user=user, order=order, payments=found,
                    events=history, address=address, money=money, labels=LABELS,
                    can_act=user.role is Role.ADMIN, error=error)

    @app.get("/orders/{number}", response_model=None)
    async def order_detail(request: Request, number: str) -> Response:
        user = await staff_only(request)
        if not isinstance(user, User):
            return user
        return await order_page(request, number, user)

    @app.post("/orders/{number}/{action}", response_model=None)
    async def order_action(request: Request, number: str, action: str) -> Response:
        checked = await acting(request, Role.ADMIN)
        if isinstance(checked, Response):
            return checked
        user, data = checked
        if action not in ("ship", "refund", "cancel", "processing", "delivered"):
            return page(request, "base.html", 404, user=user, error="No such action.")
        running = shop(request)
        try:
            async with running.transaction() as session:
                order = await orders.find_by_number(session=session, text=number)
                who = actor(user)
                if action == "ship":
                    await payments.ship(session=session, order=order, gateways=running.gateways,
                                        actor=who, carrier=data.get("carrier", ""),
                                        tracking_number=data.get("tracking", ""))
                elif action == "refund":
                    await payments.refund(
                        session=session, order=order, gateways=running.gateways, actor=who,
                        amount_minor=_amount(data.get("amount", ""), order.currency),
                        reason=data.get("reason", ""))
                elif action == "cancel":
                    await payments.cancel_order(session=session, order=order,
                                                gateways=running.gateways, actor=who,
                                                reason=data.get("reason", "") or "by staff")
                else:
                    await orders.advance(session=session, order=order, actor=who,
                                         to=OrderStatus(action))
        except DomainError as problem:  # refused: nothing changed, the reason is shown
            return await order_page(request, number, user, 409, problem.message)
        return go(request, f"/orders/{number}")  # the shopper's message leaves with the relay

    @app.get("/inventory", response_model=None)
    async def inventory_page(request: Request, low: str = "") -> Response:
        user = await staff_only(request)
        if not isinstance(user, User):
            return user
        return await stock_page(request, user, low_only=bool(low))

    async def stock_page(request: Request, user: User, low_only: bool = False,
                         status: int = 200, error: str | None = None) -> Response:
        async with shop(request).transaction() as session:
            rows = await inventory.overview(session=session, low_only=low_only)
            session.expunge_all()
        return page(request, "inventory.html", status, user=user, rows=rows, error=error,
                    can_adjust=user.role is Role.ADMIN)

    @app.post("/inventory/{product_id}", response_model=None)
    async def adjust_stock(request: Request, product_id: int) -> Response:
        checked = await acting(request, Role.ADMIN)
        if isinstance(checked, Response):
            return checked
        user, data = checked
        try:
            delta = int(data.get("delta", "").strip().replace(" ", ""))
        except ValueError:
            return await stock_page(request, user, status=400,
                                    error="The change is a whole number, like +10 or -2.")
        try:
            async with shop(request).transaction() as session:
                await inventory.adjust(session=session, product_id=product_id, delta=delta,
                                       reason=data.get("reason", ""), actor=actor(user))
        except DomainError as problem:
            return await stock_page(request, user, status=409, error=problem.message)
        return go(request, "/inventory")

    @app.get("/users", response_model=None)
    async def users_page(request: Request) -> Response:
        user = await staff_only(request, Role.ADMIN)
        if not isinstance(user, User):
            return user
        return await people_page(request, user)

    async def people_page(request: Request, user: User, status: int = 200,
                          error: str | None = None) -> Response:
        async with shop(request).transaction() as session:
            people = await accounts.staff_and_customers(session=session)
            session.expunge_all()
        return page(request, "users.html", status, user=user, people=people, error=error,
                    roles=[role.value for role in Role])

    @app.post("/users/{user_id}/{change}", response_model=None)
    async def change_user(request: Request, user_id: int, change: str) -> Response:
        checked = await acting(request, Role.ADMIN)
        if isinstance(checked, Response):
            return checked
        user, data = checked
        try:
            async with shop(request).transaction() as session:
                if change == "role":
                    await accounts.set_role(session=session, user_id=user_id, actor=actor(user),
                                            role=accounts.parse_role(data.get("role", "")))
                elif change in ("enable", "disable"):
                    await accounts.set_active(session=session, user_id=user_id,
                                              active=change == "enable", actor=actor(user))
                else:
                    return page(request, "base.html", 404, user=user, error="No such change.")
        except DomainError as problem:
            return await people_page(request, user, 409, problem.message)
        return go(request, "/users")

    async def faq_page(request: Request, user: User, status: int = 200,
                       error: str | None = None) -> Response:
        async with shop(request).transaction() as session:
            entries = await support.all_faq(session=session)
            session.expunge_all()
        return page(request, "faq.html", status, user=user, entries=entries, error=error)

    @app.get("/faq", response_model=None)
    async def faq(request: Request) -> Response:
        user = await staff_only(request, Role.ADMIN, Role.SUPPORT)
        if not isinstance(user, User):
            return user
        return await faq_page(request, user)

    @app.post("/faq", response_model=None)
    @app.post("/faq/{entry_id}", response_model=None)
    async def save_faq(request: Request, entry_id: int | None = None) -> Response:
        checked = await acting(request, Role.ADMIN, Role.SUPPORT)
        if isinstance(checked, Response):
            return checked
        user, data = checked
        try:
            async with shop(request).transaction() as session:
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
            return await faq_page(request, user, 400, problem.message)
        return go(request, "/faq")

    @app.get("/audit", response_model=None)
    async def audit_page(request: Request, action: str = "", subject: str = "") -> Response:
        user = await staff_only(request, Role.ADMIN)
        if not isinstance(user, User):
            return user
        async with shop(request).transaction() as session:
            events = await audit.recent(session=session, action=action, subject_type=subject)
        return page(request, "audit.html", user=user, events=events, action=action[:64],
                    subject=subject, subjects=["order", "user", "product", "cart"])

    async def products_page(request: Request, user: User, status: int = 200,
                            error: str | None = None, fields: dict[str, str] | None = None,
                            q: str = "", archived: bool = False) -> Response:
        running = shop(request)
        async with running.transaction() as session:
            found = await catalog.staff_list(session=session, text=q, archived=archived)
            session.expunge_all()
        return page(request, "products.html", status, user=user, products=found, q=q[:100],
                    archived=archived, error=error, fields=fields or {}, product=None,
                    can_edit=user.role is Role.ADMIN, money=money,
                    currency=running.settings.shop_currency, image_url=running.images.url)

    @app.get("/products", response_model=None)
    async def products(request: Request, q: str = "", archived: str = "") -> Response:
        user = await staff_only(request)
        if not isinstance(user, User):
            return user
        return await products_page(request, user, q=q, archived=bool(archived))

    async def product_form(request: Request) -> tuple[dict[str, str], bytes | None] | None:
        """The posted product fields and image bytes; None when the CSRF token is wrong."""
        data = await posted(request)
        if data is None:
            return None
        fields = {k: v for k, v in data.items() if isinstance(v, str)}
        upload = data.get("image")
        image = None
        if upload is not None and not isinstance(upload, str) and upload.filename:
            image = await upload.read(MAX_IMAGE + 1)
        return fields, image

    async def save_product(request: Request, user: User, fields: dict[str, str],
                           image: bytes | None, product_id: int | None) -> int:
        running = shop(request)
        currency = running.settings.shop_currency
        async with running.transaction() as session:
            path = fields.get("category", "").strip()
            category = (await catalog.ensure_category(session=session, path=path,
                                                      actor=actor(user)) if path else None)
            price = _amount(fields.get("price", ""), currency, CatalogError.PRICE_INVALID)
            if product_id is None:
                product = await catalog.create_product(
                    session=session, actor=actor(user), sku=fields.get("sku", ""),
                    name=fields.get("name", ""), price_minor=price, currency=currency,
                    category=category, description=fields.get("description", ""),
                    stock=_whole(fields.get("stock", "0"), "Stock"),
                    low_stock_threshold=_whole(fields.get("threshold", "5"), "Alert at"))
            else:
                product = await catalog.update_product(
                    session=session, actor=actor(user), product_id=product_id,
                    sku=fields.get("sku", ""), name=fields.get("name", "").strip(),
                    description=fields.get("description", "").strip(), price_minor=price,
                    category_id=category.id if category else None)
            if image is not None:
                await catalog.add_image(session=session, storage=running.images,
                                        actor=actor(user), product_id=product.id,
                                        image=check_image(image))
            return product.id

    @app.post("/products", response_model=None)
    async def create_product(request: Request) -> Response:
        posted = await product_form(request)
        user = await staff_only(request, Role.ADMIN)
        if not isinstance(user, User):
            return user
        if posted is None:
            return refused(request)
        fields, image = posted
        try:
            product_id = await save_product(request, user, fields, image, None)
        except DomainError as problem:
            return await products_page(request, user, 400, problem.message, fields)
        return go(request, f"/products/{product_id}")

    @app.get("/products/import", response_model=None)
    async def import_page(request: Request) -> Response:
        user = await staff_only(request, Role.ADMIN)
        if not isinstance(user, User):
            return user
        return page(request, "import.html", user=user, problems=[], report=None)

    @app.post("/products/import", response_model=None)
    async def import_products(request: Request) -> Response:
        data = await posted(request)
        user = await staff_only(request, Role.ADMIN)
        if not isinstance(user, User):
            return user
        if data is None:
            return refused(request)
        upload = data.get("file")
        if upload is None or isinstance(upload, str) or not upload.filename:
            return page(request, "import.html", 400, user=user, problems=[], report=None,
                        error="Choose a CSV or JSON file to import.")
        data = await upload.read(MAX_IMPORT + 1)
        if len(data) > MAX_IMPORT:
            return page(request, "import.html", 413, user=user, problems=[], report=None,
                        error="That file is too large (at most 5 MB).")
        running = shop(request)
        currency = running.settings.shop_currency
        try:
            with tempfile.TemporaryDirectory() as nowhere:  # pictures: upload per product
                rows = importer.read_rows(data, filename=upload.filename, currency=currency,
                                          base=Path(nowhere))
            async with running.transaction() as session:
                report = await importer.import_rows(
                    session=session, rows=rows, storage=running.images, currency=currency,
                    actor=actor(user))
        except importer.ImportFailed as failed:
            return page(request, "import.html", 400, user=user, report=None,
                        problems=failed.problems)
        return page(request, "import.html", user=user, problems=[], report=report)

    async def product_page(request: Request, user: User, product_id: int, status: int = 200,
                           error: str | None = None) -> Response:
        running = shop(request)
        async with running.transaction() as session:
            try:
                product = await catalog.get_product(session=session, product_id=product_id)
            except DomainError:
                return page(request, "base.html", 404, user=user, error="No such product.")
            await session.refresh(product, ["images"])
            session.expunge_all()
        fields = {"sku": product.sku, "name": product.name, "description": product.description,
                  "category": product.category.path if product.category else "",
                  "price": str(Decimal(product.price_minor).scaleb(
                      -currency_exponent(product.currency)))}
        return page(request, "product.html", status, user=user, product=product, error=error,
                    fields=fields, can_edit=user.role is Role.ADMIN,
                    currency=running.settings.shop_currency, image_url=running.images.url)

    @app.get("/products/{product_id}", response_model=None)
    async def product_detail(request: Request, product_id: int) -> Response:
        user = await staff_only(request)
        if not isinstance(user, User):
            return user
        return await product_page(request, user, product_id)

    @app.post("/products/{product_id}", response_model=None)
    async def edit_product(request: Request, product_id: int) -> Response:
        posted = await product_form(request)
        user = await staff_only(request, Role.ADMIN)
        if not isinstance(user, User):
            return user
        if posted is None:
            return refused(request)
        try:
            await save_product(request, user, *posted, product_id)
        except DomainError as problem:
            return await product_page(request, user, product_id, 400, problem.message)
        return go(request, f"/products/{product_id}")

    @app.post("/products/{product_id}/{change}", response_model=None)
    async def archive_product(request: Request, product_id: int, change: str) -> Response:
        checked = await acting(request, Role.ADMIN)
        if isinstance(checked, Response):
            return checked
        user, data = checked
        if change not in ("archive", "restore"):
            return page(request, "base.html", 404, user=user, error="No such change.")
        status = ProductStatus.ARCHIVED if change == "archive" else ProductStatus.ACTIVE
        try:
            async with shop(request).transaction() as session:
                await catalog.set_status(session=session, actor=actor(user),
                                         product_id=product_id, status=status)
        except DomainError as problem:
            return await product_page(request, user, product_id, 404, problem.message)
        return go(request, f"/products/{product_id}")

    @app.post("/logout", response_model=None)
    async def logout(request: Request) -> Response:
        data = await form(request)
        if data is None:
            return refused(request)
        try:
            token = signer.loads(request.cookies.get(SESSION, ""))
        except BadSignature:
            token = None
        if token:
            async with shop(request).transaction() as session:
                await staff.close_session(session=session, token=str(token),
                                          secret_key=settings.secret_key)
        response = go(request, "/login")
        response.delete_cookie(SESSION, path=root(request) or "/")
        return response

    @app.post("/logout-everywhere", response_model=None)
    async def logout_everywhere(request: Request) -> Response:
        data = await form(request)
        user = await signed_in(request)
        if data is None or user is None:
            return refused(request)
        async with shop(request).transaction() as session:
            fresh = await session.get(User, user.id)
            assert fresh is not None
            await staff.close_all(session=session, user=fresh, actor=actor(fresh))
        response = go(request, "/login")
        response.delete_cookie(SESSION, path=root(request) or "/")
        return response

    return app


def _amount(text: str, currency: str, code: StrEnum = OrderError.REFUND_INVALID) -> int:
    try:
        return parse_amount(text.strip(), currency)
    except ValueError as problem:
        raise InvalidInput(code, f"“{text.strip()[:20]}” is not an amount: {problem}.") \
            from None


def _whole(text: str, label: str) -> int:
    try:
        return int(text.strip() or "0")
    except ValueError:
        raise InvalidInput(CatalogError.PRICE_INVALID,
                           f"{label} is a whole number, like 12.") from None


def _day(text: str) -> datetime | None:
    """A date typed as YYYY-MM-DD, as the start of that day in UTC; None when empty or bad."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
