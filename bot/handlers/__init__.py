"""Shopper capabilities, one module each; `shop_router()` puts them together."""

from __future__ import annotations

from bot.router import Router


def shop_router() -> Router:
    from bot.dialogs import sms_consent
    from bot.handlers import (
        account,
        cart,
        catalog,
        checkout,
        menu,
        notifications,
        nudges,
        orders,
        returns,
        support,
    )

    router = Router()
    for module in (menu, catalog, cart, orders, support, checkout, account, returns,
                   notifications, sms_consent, nudges):
        router.include(module.router)
    return router
