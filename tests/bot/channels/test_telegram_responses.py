"""The Bot API answer models outlive garbage collections (pydantic caches them weakly)."""

import gc
import weakref

from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from aiogram.methods.base import Response

from bot.channels.telegram import responses


def test_kept_answer_models_are_not_rebuilt_after_a_collection() -> None:
    responses.keep()
    built = [weakref.ref(Response[method.__returning__])  # type: ignore[misc]
             for method in (SendMessage, EditMessageText, AnswerCallbackQuery)]
    gc.collect()
    assert all(ref() is not None for ref in built)
    assert Response[SendMessage.__returning__] is built[0]()  # type: ignore[misc]
