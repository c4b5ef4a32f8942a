"""Handlers register for a button verb or an intent name; the pipeline looks them up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.messages import Reply
from bot.turn import Turn

Handler = Callable[[Turn], Awaitable[list[Reply]]]
FlowHandler = Callable[[Turn], Awaitable[list[Reply] | None]]


class Router:
    def __init__(self) -> None:
        self.actions: dict[str, Handler] = {}
        self.intents: dict[str, Handler] = {}
        # A dialog under way (`state.flow`) sees typed text first; it returns None
        # to let go, and the text is then understood as usual.
        self.flows: dict[str, FlowHandler] = {}

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

    def flow(self, name: str) -> Callable[[FlowHandler], FlowHandler]:
        def register(handler: FlowHandler) -> FlowHandler:
            self.flows[name] = handler
            return handler
        return register

    def include(self, other: Router) -> None:
        tables = ((self.actions, other.actions), (self.intents, other.intents),
                  (self.flows, other.flows))
        for table, incoming in tables:  # type: ignore[assignment]
            clash = set(table) & set(incoming)
            if clash:
                raise ValueError(f"two handlers for {sorted(clash)}")
            table.update(incoming)
