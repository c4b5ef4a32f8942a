"""Returns: the dialog lives in bot/dialogs/returns.py; this module registers it (the
return_request intent starts it, whatever else is open: a request is never dropped)."""

from __future__ import annotations

from bot.dialogs.returns import router

__all__ = ["router"]
