"""The console: a FastAPI app that `chatcart serve` mounts at /admin (found through the
`chatcart.consoles` entry point, so bot/ never imports it). It is handed the running shop
and changes it only through core's services.

Sign-in is password, then a TOTP code (admins must enrol; support may). Sessions live in
signed, HttpOnly, SameSite=Strict cookies backed by revocable rows; every form carries a
CSRF token matched against its cookie; pages send a strict CSP and no inline script.

What every page shares is in console.py (the one CSRF check is `Console.posted`); each
group of pages is a router of its own: sign_in, home, orders, products, categories, stock,
people, handoffs (the inbox), conversation (one conversation, live), saved_replies,
returns, faq and audit_log; live streams news to open pages.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from admin_web import (
    audit_log,
    categories,
    conversation,
    faq,
    forms,
    handoffs,
    home,
    live,
    orders,
    people,
    products,
    returns,
    saved_replies,
    sign_in,
    stock,
)
from admin_web.console import Console
from core.config import Settings
from core.shop import Shop
from core.slots import Slots

HERE = Path(__file__).parent
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


async def _numbers_that_fit(request: Request) -> None:
    """Every route's path numbers at once: one too large for the database is a page that
    does not exist (it was an OverflowError, a 500, on SQLite)."""
    if not all(forms.fits(str(value)) for value in request.path_params.values()):
        raise HTTPException(404, "Not Found")


def create_console(settings: Settings, running_shop: Callable[[], Shop]) -> FastAPI:
    """The console app; `running_shop()` gives the serving process's shop (built at start)."""
    app = FastAPI(title="Chatcart console", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(_numbers_that_fit)])
    app.state.console = Console(settings, running_shop)
    app.state.streams = Slots(settings.console_streams_per_staff,
                              settings.console_streams_per_process)  # live.py's cap
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # The order routes are tried in: products keeps /products/import ahead of /{product_id}.
    # conversation's /handoffs/{id}/reply, /note, /transfer ahead of handoffs' /{id}/{change}.
    for pages in (sign_in, home, live, orders, stock, people, conversation, handoffs,
                  saved_replies, returns, faq, audit_log, categories, products):
        app.include_router(pages.router)
    return app
