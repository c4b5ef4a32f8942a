"""Signing in and out: password, then the TOTP code (or enrolling one, with recovery codes),
then a session; signing out closes this session or every one."""

from __future__ import annotations

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from itsdangerous import BadSignature

from admin_web.console import PENDING, PENDING_SECONDS, SESSION, actor, console
from core.accounts import staff
from core.accounts.models import User
from core.errors import DomainError

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return console(request).page(request, "login.html", email="")


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    site = console(request)
    data = await site.form(request)
    if data is None:
        return site.refused(request)
    email = data.get("email", "")
    ip = request.client.host if request.client else "-"
    async with site.shop().transaction() as session:
        try:  # failures are counted, so this transaction commits either way
            user = await staff.check_password(session=session, email=email,
                                              password=data.get("password", ""), ip=ip)
        except DomainError as problem:
            return site.page(request, "login.html", 400, email=email, error=problem.message)
        session.expunge(user)
    if staff.needs_enrolment(user) or staff.has_second_factor(user):
        stage = "enrol" if staff.needs_enrolment(user) else "code"
        response = site.go(request, "/enrol" if stage == "enrol" else "/login/code")
        site.set_cookie(response, request, PENDING,
                        site.signer.dumps({"user": user.id, "stage": stage}), PENDING_SECONDS)
        return response
    return await site.start_session(request, user, site.go(request, "/"))


@router.get("/login/code", response_model=None)
async def code_page(request: Request) -> Response:
    site = console(request)
    if site.pending(request, "code") is None:
        return site.go(request, "/login")
    return site.page(request, "second_factor.html")


@router.post("/login/code", response_model=None)
async def code(request: Request) -> Response:
    site = console(request)
    waiting = await site.awaiting(request, "code")
    if isinstance(waiting, Response):
        return waiting
    data, user_id = waiting
    running = site.shop()
    async with running.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None
        good = await staff.verify_second_factor(
            session=session, user=user, code=data.get("code", ""), vault=running.vault,
            secret_key=site.settings.secret_key, actor=actor(user))
        session.expunge(user)
    if not good:
        return site.page(request, "second_factor.html", 400,
                         error="That code is not right (or was already used).")
    return await site.start_session(request, user, site.go(request, "/"))


def enrol_form(request: Request, secret: str, uri: str, status: int = 200,
               error: str | None = None) -> HTMLResponse:
    qr = segno.make(uri, error="m").svg_data_uri(scale=5)
    return console(request).page(request, "enrol.html", status, secret=secret, qr=qr,
                                 error=error)


@router.get("/enrol", response_model=None)
async def enrol_page(request: Request) -> Response:
    site = console(request)
    user_id = site.pending(request, "enrol")
    if user_id is None:
        return site.go(request, "/login")
    running = site.shop()
    async with running.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None
        secret, uri = await staff.begin_enrolment(session=session, user=user,
                                                  vault=running.vault)
    return enrol_form(request, secret, uri)


@router.post("/enrol", response_model=None)
async def enrol(request: Request) -> Response:
    site = console(request)
    waiting = await site.awaiting(request, "enrol")
    if isinstance(waiting, Response):
        return waiting
    data, user_id = waiting
    running = site.shop()
    async with running.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None
        try:
            codes = await staff.confirm_enrolment(
                session=session, user=user, code=data.get("code", ""),
                vault=running.vault, secret_key=site.settings.secret_key,
                actor=actor(user))
        except DomainError as problem:  # the same key again, to try another code
            secret, uri = staff.enrolment(user=user, vault=running.vault)
            return enrol_form(request, secret, uri, 400, problem.message)
        session.expunge(user)
    return await site.start_session(request, user,
                                    site.page(request, "recovery.html", codes=codes, user=user))


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
