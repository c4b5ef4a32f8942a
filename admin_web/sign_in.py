"""Signing in and out: the password, then the TOTP code (or enrolling one, with recovery
codes), then a session; signing out closes this session or every one.

Between password and session the `cc_pending` cookie holds only a random token; the rules
(how many wrong codes, the lock, one secret per enrolment) are core/accounts/second_factor.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from itsdangerous import BadSignature

from admin_web.console import PENDING, PENDING_SECONDS, SESSION, actor, console
from core.accounts import second_factor, staff
from core.accounts.errors import AccountError
from core.accounts.models import SignInStage, User
from core.accounts.second_factor import Outcome, Step
from core.errors import DomainError
from core.i18n import _

router = APIRouter()
log = logging.getLogger("chatcart.console")
STATUS = {AccountError.TOO_MANY_ATTEMPTS: 429, AccountError.LOCKED: 403}


def client_ip(request: Request) -> str:
    """Who is asking: the peer, or with a trusted proxy (FORWARDED_ALLOW_IPS) the client it
    names, as uvicorn's proxy headers set it."""
    return request.client.host if request.client else "unknown"


def _log(event: str, level: int = logging.INFO, **fields: object) -> None:
    log.log(level, event, extra={"fields": fields})


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return console(request).page(request, "login.html", email="")


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    site = console(request)
    data = await site.form(request)
    if data is None:
        return site.refused(request)
    email = data.get("email", "")[:staff.LONGEST_EMAIL]
    running = site.shop()
    async with running.transaction() as session:
        try:  # failures are counted, so this transaction commits either way
            user = await staff.check_password(session=session, email=email,
                                              password=data.get("password", ""),
                                              ip=client_ip(request))
        except DomainError as problem:
            answer = site.page(request, "login.html", STATUS.get(problem.code, 400),
                               email=email, error=problem.message)
            if "retry_after" in problem.details:
                answer.headers["Retry-After"] = str(problem.details["retry_after"])
            return answer
        token, stage = await second_factor.begin(session=session, user=user,
                                                 secret_key=site.settings.secret_key,
                                                 vault=running.vault)
    response = site.go(request, "/enrol" if stage is SignInStage.ENROL else "/login/code")
    site.set_cookie(response, request, PENDING, token, PENDING_SECONDS)
    return response


async def _waiting(request: Request, stage: SignInStage) -> bool:
    site = console(request)
    async with site.shop().transaction() as session:
        return await second_factor.waiting(session=session, token=site.pending(request),
                                           stage=stage, secret_key=site.settings.secret_key)


def _ended(request: Request, status: int, message: str) -> Response:
    """Back to the password, with why, the pending cookie gone."""
    site = console(request)
    response = site.page(request, "login.html", status, email="", error=message)
    response.delete_cookie(PENDING, path=site.root(request) or "/")
    return response


async def _after(request: Request, step: Step,
                 wrong: Callable[[], Awaitable[Response]] | None = None) -> Response:
    """The answer to a code: a session, the form again (`wrong`), or back to the password."""
    site = console(request)
    user, ip = step.user, client_ip(request)
    if step.counted and user is not None:
        _log("console.second_factor_failed", user=user.id, ip=ip,
             failures=user.factor_failures, outcome=step.outcome.value)
    if step.outcome is Outcome.PASSED and user is not None:
        done = (site.page(request, "recovery.html", codes=step.codes, user=user) if step.codes
                else site.go(request, "/"))
        return await site.start_session(request, user, done)
    if step.outcome is Outcome.WRONG and wrong is not None:
        return await wrong()
    if step.outcome is Outcome.VOID:
        return _ended(request, 400, _("Too many wrong codes. Please sign in again with your "
                                      "password."))
    if step.outcome is Outcome.LOCKED:
        _log("console.account_locked" if step.counted else "console.locked_account_tried",
             logging.WARNING, user=user.id if user else "-", ip=ip)
        return _ended(request, 403, staff.locked_message())
    if step.outcome is Outcome.TAKEN:
        return _ended(request, 409, _("Two-factor sign-in is already set up for this account. "
                                      "Please sign in again and type a code from its app."))
    response = site.go(request, "/login")  # gone: expired, finished, or never started
    response.delete_cookie(PENDING, path=site.root(request) or "/")
    return response


@router.get("/login/code", response_model=None)
async def code_page(request: Request) -> Response:
    site = console(request)
    if not await _waiting(request, SignInStage.CODE):
        return site.go(request, "/login")
    return site.page(request, "second_factor.html")


@router.post("/login/code", response_model=None)
async def code(request: Request) -> Response:
    site = console(request)
    waiting = await site.awaiting(request)
    if isinstance(waiting, Response):
        return waiting
    data, token = waiting
    running = site.shop()
    async with running.transaction() as session:
        step = await second_factor.verify(
            session=session, token=token, code=data.get("code", ""), vault=running.vault,
            secret_key=site.settings.secret_key, ip=client_ip(request))
        if step.user is not None:
            session.expunge(step.user)

    async def again() -> Response:
        return site.page(request, "second_factor.html", 400,
                         error=_("That code is not right (or was already used)."))

    return await _after(request, step, again)


def enrol_form(request: Request, secret: str, uri: str, status: int = 200,
               error: str | None = None) -> HTMLResponse:
    qr = segno.make(uri, error="m").svg_data_uri(scale=5)
    return console(request).page(request, "enrol.html", status, secret=secret, qr=qr,
                                 error=error)


async def _enrolment(request: Request, status: int = 200,
                     error: str | None = None) -> Response:
    """This enrolment attempt's page: the same secret and QR code on every visit."""
    site = console(request)
    running = site.shop()
    async with running.transaction() as session:
        shown = await second_factor.enrolment(session=session, token=site.pending(request),
                                              secret_key=site.settings.secret_key,
                                              vault=running.vault)
    if isinstance(shown, Outcome):
        return await _after(request, Step(shown))
    return enrol_form(request, *shown, status=status, error=error)


@router.get("/enrol", response_model=None)
async def enrol_page(request: Request) -> Response:
    return await _enrolment(request)


@router.post("/enrol", response_model=None)
async def enrol(request: Request) -> Response:
    site = console(request)
    waiting = await site.awaiting(request)
    if isinstance(waiting, Response):
        return waiting
    data, token = waiting
    running = site.shop()
    async with running.transaction() as session:
        step = await second_factor.confirm_enrolment(
            session=session, token=token, code=data.get("code", ""), vault=running.vault,
            secret_key=site.settings.secret_key, ip=client_ip(request))
        if step.user is not None:
            session.expunge(step.user)

    async def again() -> Response:  # the same secret, to try another code
        return await _enrolment(request, 400, _(
            "That code is not right. Check the time on your phone and type the 6 digits "
            "the app shows now."))

    return await _after(request, step, again)


@router.post("/logout", response_model=None)
async def logout(request: Request) -> Response:
    site = console(request)
    data = await site.form(request)
    if data is None:
        return site.refused(request)
    try:
        token = site.signer.loads(request.cookies.get(SESSION, ""))
    except BadSignature:
        token = None
    if token:
        async with site.shop().transaction() as session:
            await staff.close_session(session=session, token=str(token),
                                      secret_key=site.settings.secret_key)
    response = site.go(request, "/login")
    response.delete_cookie(SESSION, path=site.root(request) or "/")
    return response


@router.post("/logout-everywhere", response_model=None)
async def logout_everywhere(request: Request) -> Response:
    site = console(request)
    data = await site.form(request)
    user = await site.signed_in(request)
    if data is None or user is None:
        return site.refused(request)
    async with site.shop().transaction() as session:
        fresh = await session.get(User, user.id)
        assert fresh is not None
        await staff.close_all(session=session, user=fresh, actor=actor(fresh))
    response = site.go(request, "/login")
    response.delete_cookie(SESSION, path=site.root(request) or "/")
    return response
