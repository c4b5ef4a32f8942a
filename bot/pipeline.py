"""One chat turn: check the input, then - one turn per chat at a time - find the shopper and
their chat state, understand the message, run its handler in one transaction, and turn
any refusal into a short message. Handlers never see errors, locks or commits.
"""

from __future__ import annotations

import logging
import unicodedata
import uuid
from typing import Protocol

from bot import actions, held, logs, replies
from bot.messages import Incoming, Kind, Reply
from bot.router import Router
from bot.sessions.flood import FloodGuard, Verdict
from bot.sessions.ordering import ChatLocks
from bot.sessions.store import SessionStore
from bot.turn import Turn, Understanding
from core.accounts import identities
from core.errors import DomainError
from core.shop import Shop
from core.webhooks import receipts

log = logging.getLogger("chatcart.turn")
MAX_TEXT = 4000
LOW_CONFIDENCE = 0.4
COMMAND_INTENTS = {"start": "greet", "help": "help"}
COMMAND_ACTIONS = {"menu": "menu", "cart": "cart", "orders": "orders", "support": "human",
                   "link": "link", "account": "account",
                   "settings": "nset"}


class Understander(Protocol):
    """Text to intent and entities: the embedded NLU, or a Rasa server with it as fallback."""

    async def understand(self, text: str) -> Understanding: ...

    async def refresh_catalog(self, shop: Shop) -> None:
        """Learn today's product and category names (they change while serving)."""


def _unreadable(text: str) -> bool:
    """Binary junk: control characters or replacement marks make up much of it."""
    odd = sum(1 for ch in text if ch == "\ufffd" or
              (unicodedata.category(ch) in ("Cc", "Cs", "Co") and ch not in "\n\t\r"))
    return odd > 0 and odd >= max(1, len(text) // 10)


def check_input(msg: Incoming) -> Reply | None:
    """A reply for input no handler should see; None when it is fine."""
    if msg.kind is Kind.ACTION:
        return None
    text = msg.text.strip()
    if not text:
        return replies.menu("Please type a message or pick one of the buttons.")
    if len(text) > MAX_TEXT:
        return Reply(f"That message is too long for me (over {MAX_TEXT:,} characters). "
                     "Could you say it in a few words?")
    if _unreadable(text):
        return replies.menu("I couldn't read that message. Could you type it again?")
    return None


SLOW_DOWN = ("You're sending messages faster than I can read them. Give me a few seconds, "
             "then carry on.")


class Pipeline:
    def __init__(self, shop: Shop, store: SessionStore, nlu: Understander,
                 router: Router, locks: ChatLocks | None = None,
                 flood: FloodGuard | None = None) -> None:
        self.shop, self.store, self.nlu, self.router = shop, store, nlu, router
        self.locks = locks if locks is not None else ChatLocks()  # an idle one is falsy
        self.flood = flood  # None: no limit

    async def handle(self, msg: Incoming) -> list[Reply]:
        problem = check_input(msg)
        if problem is not None and msg.delivery is None:
            return [problem]
        turn_id = uuid.uuid4().hex[:12]
        key = msg.chat.session_key
        verdict = await self.flood.check(key) if self.flood else Verdict.PASS
        if verdict is not Verdict.PASS:
            return [Reply(SLOW_DOWN)] if verdict is Verdict.WARN else []
        async with self.locks.hold(key):
            try:
                understood = await self._understand_first(msg, key) if problem is None \
                    else None
                async with self.shop.transaction() as session:
                    if msg.delivery and not await receipts.claim(
                            session=session, source=msg.delivery.source,
                            event_id=msg.delivery.event_id):
                        logs.event(log, "turn.duplicate", source=msg.delivery.source,
                                   event=msg.delivery.event_id)
                        return []
                    if problem is not None:
                        return [problem]
                    seen = await identities.recognise(
                        session=session, platform=msg.chat.platform,
                        platform_user_id=msg.chat.user_id, display_name=msg.chat.display_name)
                    state = await self.store.load(session, key)
                    turn = Turn(msg, session, self.shop, state, seen)
                    result = await held.run(
                        turn, lambda: self._dispatch(turn, understood), self.router)
                    state.turn += 1
                    await self.store.save(session, key, state)
                await self._after_commit(turn, turn_id)
                return result
            except DomainError as refused:
                logs.event(log, "turn.refused", turn=turn_id, code=str(refused.code))
                return [Reply(refused.message, buttons=(replies.MENU_ROW,))]
            except Exception:
                log.exception("turn.failed turn=%s", turn_id)
                return [replies.menu("Sorry, something went wrong on our side. "
                                     "Please try again in a moment.")]

    async def _understand_first(self, msg: Incoming, key: str) -> Understanding | None:
        """Free text for a remote NLU (Rasa, about 12 ms) is understood before the turn's
        transaction, which must not wait on it (on SQLite every chat's turn would). Only
        outside a dialog: a checkout address or an email is for the dialog, not for Rasa.
        The embedded NLU answers in a tenth of a millisecond, inside the turn as ever."""
        if msg.kind is not Kind.TEXT or not getattr(self.nlu, "remote", False):
            return None
        async with self.shop.sessions() as session:
            if (await self.store.load(session, key)).flow is not None:
                return None
        return await self.nlu.understand(msg.text)

    @staticmethod
    async def _after_commit(turn: Turn, turn_id: str) -> None:
        for effect in turn.after_commit:
            try:
                await effect()
            except Exception:  # noqa: BLE001 - the turn stands; the effect is logged
                log.exception("turn.after_commit_failed turn=%s", turn_id)

    async def _dispatch(self, turn: Turn, understood: Understanding | None) -> list[Reply]:
        msg = turn.msg
        if msg.kind is Kind.ACTION:
            turn.action = actions.decode(msg.action)
            handler = self.router.actions.get(turn.action.verb) if turn.action else None
            if handler is None:
                return [replies.menu("That button is no longer valid. Here is the menu.")]
            return await handler(turn)
        if msg.kind is Kind.COMMAND:
            command = msg.text.strip().lstrip("/").split()[0].lower() if msg.text.strip() else ""
            if command in COMMAND_ACTIONS:
                turn.action = actions.decode(COMMAND_ACTIONS[command])
                return await self.router.actions[COMMAND_ACTIONS[command]](turn)
            if command in COMMAND_INTENTS:
                return await self.router.intents[COMMAND_INTENTS[command]](turn)
            return [replies.menu(f"I don't know the command /{command[:30]}. "
                                 "Here is what I can do.")]
        if (flow := self.router.flows.get(turn.state.flow or "")) is not None:
            answer = await flow(turn)
            if answer is not None:
                return answer
        understood = understood or await self.nlu.understand(msg.text)
        turn.understood = understood
        handler = self.router.intents.get(understood.intent or "")
        if handler is None or understood.confidence < LOW_CONFIDENCE:
            return await self.router.intents["nlu_fallback"](turn)
        return await handler(turn)
