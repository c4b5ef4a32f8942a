"""The gateways a shop has: Stripe and PayPal when their keys are set, else the offline
test gateway (so a demo shop can take a test payment end to end)."""

from __future__ import annotations

from core.config import Settings
from core.payments.gateway import Gateway
from core.payments.offline import OfflineGateway


def configured(settings: Settings) -> dict[str, Gateway]:
    gateways: dict[str, Gateway] = {}
    if settings.stripe_secret_key:
        from core.payments.stripe_gateway import StripeGateway

        gateways["stripe"] = StripeGateway(settings)
    if settings.paypal_client_id and settings.paypal_client_secret:
        from core.payments.paypal import PayPalGateway

        gateways["paypal"] = PayPalGateway(settings)
    if not gateways:
        gateways["offline"] = OfflineGateway(settings.secret_key, settings.base_url)
    return gateways
