"""The offline test gateway: on when no real gateway is configured, so the demo shop works
end to end. Its link opens a page of Chatcart's own, marked as a test, whose Pay and
Decline buttons produce the same events a real gateway would. No money moves.
"""

from __future__ import annotations

from collections.abc import Mapping

from itsdangerous import BadSignature as BadToken
from itsdangerous import URLSafeSerializer

from core.orders.models import Order
from core.payments.gateway import BadSignature, CheckoutLink, EventKind, GatewayEvent
from core.payments.models import Payment


class OfflineGateway:
    name = "offline"
    label = "Test payment"
    page = "our test payment page"
    is_test = True

    def __init__(self, secret_key: str, base_url: str) -> None:
        self._tokens = URLSafeSerializer(secret_key, salt="chatcart.offline-payment")
        self.base_url = base_url

    def token(self, payment: Payment) -> str:
        return str(self._tokens.dumps({"payment": payment.id, "order": payment.order_id}))

    def payment_id(self, token: str) -> int:
        """The payment a page token stands for; BadSignature for one we never issued."""
        try:
            data = self._tokens.loads(token)
        except BadToken:
            raise BadSignature("not a test payment link") from None
        return int(data["payment"])

    async def create_link(self, *, order: Order, payment: Payment, capture: bool) -> CheckoutLink:
        token = self.token(payment)
        return CheckoutLink(f"{self.base_url}/pay/test/{token}", reference=token,
                            intent=f"offline-{payment.key}")

    def event(self, token: str, payment: Payment, outcome: str, capture: bool) -> GatewayEvent:
        """What pressing Pay or Decline on the test page means."""
        kind = EventKind.FAILED if outcome == "decline" else (
            EventKind.PAID if capture else EventKind.AUTHORIZED)
        return GatewayEvent(self.name, f"offline:{payment.key}:{kind}", kind, token,
                            payment.amount_minor, payment.currency, payment.intent)

    async def parse_webhook(self, headers: Mapping[str, str], body: bytes
                            ) -> list[GatewayEvent]:
        raise BadSignature("the test gateway has no webhook")

    async def complete(self, *, payment: Payment, capture: bool) -> GatewayEvent | None:
        return None  # the payment is taken on the hosted page itself

    async def close(self, *, payment: Payment) -> None:
        return None  # the test page checks the payment's state itself

    async def capture(self, *, payment: Payment) -> None:
        return None

    async def refund(self, *, payment: Payment, amount_minor: int) -> None:
        return None

    async def void(self, *, payment: Payment) -> None:
        return None
