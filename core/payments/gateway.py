"""What every gateway offers, and the events it reports, in the shop's own terms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from core.orders.models import Order
from core.payments.models import Payment


class BadSignature(ValueError):
    """A webhook that is unsigned, forged, stale or unreadable: answered 400, changes nothing."""


class WebhookThrottled(Exception):
    """Too many webhooks to verify just now (each costs a call to the gateway): answered
    429, changes nothing; a genuine sender retries later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class GatewayDown(Exception):
    """The gateway timed out or failed; the same call may be retried (idempotency keys)."""


class GatewayRefused(Exception):
    """The gateway said no (an invalid request, a capture too late): retrying won't help."""


class EventKind(StrEnum):
    APPROVED = "approved"       # the payer approved: the shop takes the money now (PayPal)
    AUTHORIZED = "authorized"   # money held
    PAID = "paid"               # money captured
    FAILED = "failed"           # declined or abandoned: the order may be paid another way
    REFUNDED = "refunded"       # `amount_minor` returned (cumulative total in `refunded_total`)


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    gateway: str
    event_id: str               # the gateway's id for this delivery: replays are ignored
    kind: EventKind
    reference: str              # the payment's reference (what the link was made for);
                                # "" when only `intent` identifies it (Stripe's refunds)
    amount_minor: int | None = None
    currency: str | None = None
    intent: str | None = None   # what capture/refund calls need (a PaymentIntent id, ...)


@dataclass(frozen=True, slots=True)
class CheckoutLink:
    url: str
    reference: str
    intent: str | None = None


class Gateway(Protocol):
    name: str
    label: str          # "PayPal": on a Pay button when there are several
    page: str           # "PayPal's secure page": where the shopper pays
    is_test: bool

    async def create_link(self, *, order: Order, payment: Payment, capture: bool) -> CheckoutLink:
        """A hosted page where the shopper pays; safe to call again for the same payment."""

    async def parse_webhook(self, headers: Mapping[str, str], body: bytes
                            ) -> list[GatewayEvent]:
        """Verified events in a webhook body; BadSignature for anything not genuine."""

    async def complete(self, *, payment: Payment, capture: bool) -> GatewayEvent | None:
        """After an APPROVED event: capture or authorize; the event that results."""

    async def close(self, *, payment: Payment) -> None:
        """The order is off: its payment page must not take money any more."""

    async def capture(self, *, payment: Payment) -> None: ...

    async def refund(self, *, payment: Payment, amount_minor: int) -> None: ...

    async def void(self, *, payment: Payment) -> None: ...
