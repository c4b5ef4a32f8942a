"""`POST /payments/stripe/webhook` and `/payments/paypal/webhook` (the body read within
bounds, the signature checked by the gateway, events applied once) and the offline
gateway's test page at `/pay/test/{token}`.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from bot import logs
from bot.bodies import BadBody, read_body
from core.errors import DomainError
from core.money import format_amount
from core.orders.models import Order
from core.payments import service as payments
from core.payments.gateway import BadSignature, WebhookThrottled
from core.payments.models import Payment, PaymentStatus
from core.payments.offline import OfflineGateway
from core.shop import Shop

log = logging.getLogger("chatcart.payments")
MAX_BODY = 1_000_000
WEBHOOKS = ("stripe", "paypal")
HEADERS = {"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                      "form-action 'self'"}


def payments_router() -> APIRouter:
    router = APIRouter()

    for name in WEBHOOKS:
        router.add_api_route(f"/payments/{name}/webhook", _webhook(name), methods=["POST"],
                             name=f"{name}_webhook")

    @router.get("/pay/done")
    async def done(order: str = "", cancelled: str = "") -> Response:
        number = html.escape(order[:16])
        if cancelled:
            return _page(f"<p>Payment for order {number} was not completed. You can pay from "
                         "the chat while the order is reserved.</p>", test=False)
        return _page(f"<p>Thank you! The chat confirms order {number} as soon as the payment "
                     "arrives. You can close this page.</p>", test=False)

    @router.get("/pay/test/{token}")
    async def test_page(token: str, request: Request) -> Response:
        found = await _test_payment(request, token)
        if isinstance(found, Response):
            return found
        payment, order = found
        return _page(_summary(order, payment) + _buttons(token, payment))

    @router.post("/pay/test/{token}")
    async def test_pay(request: Request, token: str, outcome: str = Form("")) -> Response:
        found = await _test_payment(request, token)
        if isinstance(found, Response):
            return found
        if outcome not in ("pay", "decline"):
            return _page("<p>Please use the Pay or Decline button.</p>", 400)
        shop: Shop = request.app.state.shop
        gateway: OfflineGateway = shop.gateways["offline"]  # type: ignore[assignment]
        payment, order = found
        async with shop.transaction() as session:
            fresh = await session.get(Payment, payment.id)
            assert fresh is not None
            event = gateway.event(token, fresh, outcome, fresh.capture_mode == "immediate")
            result = await payments.apply_event(session=session, event=event, gateway=gateway,
                                                vault=shop.vault)
        logs.event(log, "payment.event", gateway="offline", kind=event.kind,
                   event=event.event_id, outcome=result)
        if outcome == "decline":
            return _page(f"<p>Test payment declined: order {html.escape(order.number)} is not "
                         "paid. You can try again from the chat.</p>")
        return _page(f"<p>Test payment done for order {html.escape(order.number)}. You can "
                     "close this page; the chat has your confirmation.</p>")

    return router


def _webhook(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def webhook(request: Request) -> Response:
        shop: Shop = request.app.state.shop
        gateway = shop.gateways.get(name)
        if gateway is None or gateway.is_test:
            return JSONResponse({"error": f"no {name} gateway here"}, status_code=404)
        try:
            body = await read_body(request, MAX_BODY)
            events = await gateway.parse_webhook(request.headers, body)
        except BadBody as bad:
            return bad.response()
        except WebhookThrottled as throttled:
            logs.event(log, "payment.webhook_throttled", logging.WARNING, gateway=name)
            return JSONResponse({"error": "too many webhooks to verify; retry later"},
                                status_code=429,
                                headers={"Retry-After": str(throttled.retry_after)})
        except BadSignature as refused:
            logs.event(log, "payment.webhook_refused", logging.WARNING, gateway=name,
                       reason=str(refused)[:120])
            return JSONResponse({"error": "invalid signature or payload"}, status_code=400)
        unknown = False
        try:
            async with shop.transaction() as session:
                for event in events:
                    outcome = await payments.apply_event(session=session, event=event,
                                                         gateway=gateway, vault=shop.vault)
                    unknown = unknown or outcome == "unknown"
                    logs.event(log, "payment.event", gateway=name, kind=event.kind,
                               event=event.event_id, outcome=outcome)
        except DomainError as problem:  # rolled back: the gateway's retry applies it later
            logs.event(log, "payment.event_deferred", logging.WARNING, gateway=name,
                       code=problem.code, reason=problem.message)
            return JSONResponse({"error": "not applied now; retry later"}, status_code=503)
        if unknown:  # the gateway retries later, when the payment it refers to is known
            return JSONResponse({"error": "payment not known yet"}, status_code=503)
        return JSONResponse({"received": True})

    return webhook


async def _test_payment(request: Request, token: str) -> tuple[Payment, Order] | Response:
    shop: Shop = request.app.state.shop
    gateway = shop.gateways.get("offline")
    if not isinstance(gateway, OfflineGateway):
        return _page("<p>Test payments are off in this shop.</p>", 404)
    try:
        payment_id = gateway.payment_id(token)
    except BadSignature:
        return _page("<p>This payment link is not valid.</p>", 404)
    async with shop.transaction() as session:
        payment = await session.get(Payment, payment_id)
        order = await session.get(Order, payment.order_id) if payment else None
        if payment is None or order is None:
            return _page("<p>This payment link is not valid.</p>", 404)
        session.expunge_all()
    return payment, order


def _summary(order: Order, payment: Payment) -> str:
    money = lambda amount: html.escape(format_amount(amount, order.currency))  # noqa: E731
    rows = "".join(f"<li>{line.quantity} × {html.escape(line.name)} — "
                   f"{money(line.line_total_minor)}</li>" for line in order.lines)
    return (f"<h1>Order {html.escape(order.number)}</h1><ul>{rows}</ul>"
            f"<p><strong>Total: {money(payment.amount_minor)}</strong></p>")


def _buttons(token: str, payment: Payment) -> str:
    if payment.status not in (PaymentStatus.CREATED, PaymentStatus.FAILED):
        return "<p>This payment is already settled.</p>"
    action = f"/pay/test/{html.escape(token)}"
    return (f'<form method="post" action="{action}">'
            '<button name="outcome" value="pay">Pay (test)</button> '
            '<button name="outcome" value="decline">Decline</button></form>')


STYLE = ("body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em}"
         ".test{background:#fff3cd;border:1px solid #e0b000;padding:.6em}"
         "button{font-size:1.1em;padding:.4em 1.2em}")


def _page(body: str, status: int = 200, test: bool = True) -> HTMLResponse:
    title = "Test payment" if test else "Payment"
    banner = ("<p class=\"test\"><strong>TEST PAYMENT</strong> — no card is asked for and no "
              "money moves.</p>") if test else ""
    document = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width\">"
                f"<title>{title}</title><style>{STYLE}</style></head><body>{banner}{body}"
                "</body></html>")
    return HTMLResponse(document, status_code=status, headers=HEADERS)
