"""Orders: the list (by status, channel, dates, customer, number or email), one order with
its payments and history, and the staff steps (being prepared, ship, deliver, cancel, refund
an amount or some lines), each through core's services."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from admin_web import forms, people
from admin_web.console import actor, console, money, status_of
from core.accounts.models import Role, User
from core.checkout.addresses import Address
from core.errors import DomainError
from core.orders import service as orders
from core.orders import states
from core.orders.errors import OrderError
from core.orders.models import Order
from core.orders.states import LABELS, OrderStatus
from core.paging import PER_PAGE, Paged
from core.payments import service as payments
from core.payments.models import Payment

router = APIRouter()


@router.get("/orders", response_model=None)
async def orders_page(request: Request, status: str = "", q: str = "", channel: str = "",
                      since: str = "", until: str = "", customer: str = "",
                      page: str = "1") -> Response:
    site = console(request)
    user = await site.staff_only(request)
    if not isinstance(user, User):
        return user
    wanted = OrderStatus(status) if status in OrderStatus._value2member_map_ else None
    first, last = forms.day(since), forms.day(until)
    async with site.shop().transaction() as session:
        shopper = await people.customer(session, customer, user) if customer.strip() else None
        if customer.strip() and shopper is None:  # nobody by that name: no orders either
            found: Paged[Order] = Paged([], 0, 1, PER_PAGE)
        else:
            found = await orders.search(
                session=session, status=wanted, text=q, channel=channel,
                customer_id=shopper.id if shopper else None, page=forms.page(page),
                since=first, until=last + timedelta(days=1) if last else None)
    return site.page(request, "orders.html", user=user, found=found, q=q[:100],
                     chosen=wanted.value if wanted else "", money=money, labels=LABELS,
                     statuses=[(s.value, LABELS[s]) for s in OrderStatus],
                     channel=channel[:16], channels=["web", "telegram", "slack", "terminal"],
                     customer=customer.strip()[:254], shopper=shopper,
                     error="No customer account has that email." if customer.strip()
                     and shopper is None else None,
                     since=first.date().isoformat() if first else "",
                     until=last.date().isoformat() if last else "")


async def order_page(request: Request, number: str, user: User, status: int = 200,
                     error: str | None = None) -> Response:
    site = console(request)
    running = site.shop()
    async with running.transaction() as session:
        try:
            order = await orders.find_by_number(session=session, text=number)
        except DomainError:
            return site.page(request, "base.html", 404, user=user, error="No such order.")
        found = list(await session.scalars(select(Payment).where(
            Payment.order_id == order.id).order_by(Payment.id)))
        history = await orders.events(session=session, order=order)
        address = ""
        if order.shipping_sealed:
            sealed = running.vault.open(order.shipping_sealed)
            address = ", ".join(Address.from_dict(sealed).lines())
    return site.page(request, "order.html", status, user=user, order=order, payments=found,
                     events=history, address=address, money=money, labels=LABELS,
                     can_act=user.role is Role.ADMIN, error=error,
                     unshipped=payments.unshipped(order), offered=offered(order))


@router.get("/orders/{number}", response_model=None)
async def order_detail(request: Request, number: str) -> Response:
    user = await console(request).staff_only(request)
    if not isinstance(user, User):
        return user
    return await order_page(request, number, user)


@router.post("/orders/{number}/{action}", response_model=None)
async def order_action(request: Request, number: str, action: str) -> Response:
    site = console(request)
    checked = await site.acting(request, Role.ADMIN)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    if action not in ("ship", "refund", "refund-lines", "cancel", "processing", "delivered"):
        return site.page(request, "base.html", 404, user=user, error="No such action.")
    running = site.shop()
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
                    amount_minor=forms.amount(data.get("amount", ""), order.currency),
                    reason=data.get("reason", ""),
                    seen_refunded_minor=forms.ident(data.get("seen", "")))
            elif action == "refund-lines":
                await payments.refund_lines(
                    session=session, order=order, gateways=running.gateways, actor=who,
                    quantities=_units(data), reason=data.get("reason", ""),
                    restock="restock" in data,
                    seen_refunded_minor=forms.ident(data.get("seen", "")))
            elif action == "cancel":
                await payments.cancel_order(session=session, order=order,
                                            gateways=running.gateways, actor=who,
                                            reason=data.get("reason", "") or "by staff")
            else:
                await orders.advance(session=session, order=order, actor=who,
                                     to=OrderStatus(action))
    except DomainError as problem:  # refused: nothing changed, the reason is shown
        return await order_page(request, number, user, status_of(problem), problem.message)
    return site.go(request, f"/orders/{number}")  # the shopper's message leaves with the relay


def offered(order: Order) -> frozenset[str]:
    """The actions the order's state allows, so the page shows only those (the server still
    refuses the rest, whatever is posted)."""
    moves = states.allowed(order.status, order.status_before_refund)
    steps = {"processing": OrderStatus.PROCESSING, "delivered": OrderStatus.DELIVERED,
             "cancel": OrderStatus.CANCELLED, "ship": OrderStatus.SHIPPED}
    found = {action for action, target in steps.items() if target in moves}
    if order.status is OrderStatus.AUTHORIZED:  # shipping captures the payment first
        found.add("ship")
    if order.status in states.CAPTURED and order.refunded_minor < order.total_minor:
        found |= {"refund", "refund-lines"}
    return frozenset(found)


def _units(data: dict[str, str]) -> dict[int, int]:
    """The refund form's "line-<id>" fields: units to refund per order line."""
    units = {forms.ident(name.removeprefix("line-")): value for name, value in data.items()
             if name.startswith("line-")}
    return {line: forms.whole(value, "Units to refund", OrderError.REFUND_INVALID)
            for line, value in units.items() if line is not None}
