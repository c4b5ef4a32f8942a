"""Handlers register for a button verb or an intent name; the pipeline looks them up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.messages import Reply
from bot.turn import Turn

Handler = Callable[[Turn], Awaitable[list[Reply]]]


class Router:
    def __init__(self) -> None:
        self.actions: dict[str, Handler] = {}
        self.intents: dict[str, Handler] = {}

    def action(self, *verbs: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for verb in verbs:
                self.actions[verb] = handler
            return handler
        return register

    def intent(self, *names: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for name in names:
                self.intents[name] = handler
            return handler
        return register

    def include(self, other: Router) -> None:
        for table, incoming in ((self.actions, other.actions), (self.intents, other.intents)):
            clash = set(table) & set(incoming)
            if clash:
                raise ValueError(f"two handlers for {sorted(clash)}")
            table.update(incoming)
