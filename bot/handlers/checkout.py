"""Checkout: the dialog lives in bot/dialogs/checkout.py; this module registers it."""

from __future__ import annotations

from bot.dialogs.checkout import router

__all__ = ["router"]
