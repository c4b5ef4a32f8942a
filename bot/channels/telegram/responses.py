"""The answer models of the Bot API calls we make, kept alive for the process's life.

aiogram reads every answer as pydantic's `Response[T]`, a generic model that pydantic
caches only weakly: after a garbage collection frees it, the next call builds it again,
about 5 ms of schema work on the event loop (65 times in a benchmark of 700 turns).
"""

from __future__ import annotations

from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    EditMessageText,
    GetMe,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    SetWebhook,
)
from aiogram.methods.base import Response

CALLED = (AnswerCallbackQuery, DeleteWebhook, EditMessageText, GetMe, SendMessage, SendPhoto,
          SetMyCommands, SetWebhook)
_kept: list[type] = []


def keep() -> None:
    """Build each answer model once and hold it (idempotent)."""
    if not _kept:
        _kept.extend(Response[method.__returning__] for method in CALLED)  # type: ignore[misc]
