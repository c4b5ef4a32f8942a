"""A chat held by a person (issue 17), in the one turn path (bot/pipeline.py calls `run`).

While the chat's request is OPEN (waiting) or TAKEN (with a person):
- free text never reaches the NLU, dialogs or handlers: it goes into the transcript (and
  so to the agent and the staff mirror), and the bot stays silent. Only while waiting,
  the first message gets one line ("passed on, you are number N") and after that at
  most one "still waiting, you are number N" every NOTICE_SPACING; with a person holding
  the chat there is nothing to add. "Back to the bot" (button or words) leaves.
- buttons and commands work as ever (the shopper may keep shopping while waiting); what
  they show is recorded in the transcript too, so the agent sees it.
With the bot: "human", "agent" or "a real person" asks for one from anywhere (also
mid-checkout; the dialog waits); each turn is added to the sealed rolling context the
agent sees when a request opens; text the NLU keeps missing is counted (handlers/menu).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot import actions, replies
from bot.messages import Button, Kind, Reply
from bot.router import Router
from bot.turn import Turn
from core.clock import now
from core.i18n import _
from core.support import context, conversations
from core.support.models import HandoffRequest, HandoffStatus

NOTICE_SPACING = timedelta(minutes=3)
RATING_FLOW = "rating"
_PERSON = re.compile(r"\b(humans?|agents?|real person|real people)\b", re.IGNORECASE)
_LEAVE = re.compile(r"^\W*(back to (the )?bot|leave (the )?queue|cancel (my |the )?request|"
                    r"never ?mind)\W*$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,24}$")


def leave_row() -> tuple[Button, ...]:
    return (Button(_("Back to the bot"), "tobot"), Button(_("Menu"), "menu"))


def asks_for_person(text: str) -> bool:
    return bool(_PERSON.search(text))


def wants_to_leave(text: str) -> bool:
    return bool(_LEAVE.match(text))


def notice_due(last: datetime | None, moment: datetime) -> bool:
    """At most one waiting notice every NOTICE_SPACING (the first one at once)."""
    return last is None or moment - last >= NOTICE_SPACING


def _said(turn: Turn) -> str:
    msg = turn.msg
    if msg.kind is Kind.ACTION:
        return _("(pressed a button: {action})", action=msg.action)
    return f"/{msg.text.strip()}" if msg.kind is Kind.COMMAND else msg.text


async def _waiting_text(turn: Turn, request: HandoffRequest) -> str | None:
    moment = now()
    if request.status is not HandoffStatus.OPEN or not notice_due(request.waiting_notice_at,
                                                                   moment):
        return None
    position = await conversations.queue_position(session=turn.session, request=request)
    first = request.waiting_notice_at is None
    request.waiting_notice_at = moment
    if first:
        return _("Your message was passed on to our team. You are number {position} in the "
                 "queue.", position=position)
    return _("Still waiting for a person: you are number {position} in the queue.",
             position=position)


async def _while_held(turn: Turn, request: HandoffRequest) -> list[Reply]:
    session, text = turn.session, turn.msg.text.strip()
    if wants_to_leave(text):
        await conversations.leave(session=session, handoff_id=request.id, actor=turn.actor)
        return [replies.menu(_("You're back with the bot. What would you like to do?"))]
    await conversations.record_shopper_message(session=session, handoff_id=request.id,
                                               text=text)
    answer: str | None = None
    if request.offline and request.contact_email is None and _EMAIL.match(text):
        await conversations.set_contact_email(session=session, handoff_id=request.id,
                                              email=text, actor=turn.actor)
        answer = _("Thank you: we will also send our answer to {email}.", email=text)
    else:
        answer = await _waiting_text(turn, request)
    if answer is None:
        return []
    await conversations.record_bot_reply(session=session, handoff_id=request.id, text=answer)
    return [Reply(answer, buttons=(leave_row(),))]


async def run(turn: Turn, dispatch: Callable[[], Awaitable[list[Reply]]],
              router: Router) -> list[Reply]:
    """The turn, with a person in the loop when the chat has asked for one."""
    msg, session = turn.msg, turn.session
    request = await conversations.active_for_chat(session=session,
                                                  chat_key=msg.chat.session_key)
    if request is not None and msg.kind is Kind.TEXT:
        turn.state.misunderstood = 0
        return await _while_held(turn, request)
    if (request is None and msg.kind is Kind.TEXT and turn.state.flow != RATING_FLOW
            and asks_for_person(msg.text)):
        turn.action = actions.decode("human")
        answers = await router.actions["human"](turn)
    else:
        before = turn.state.misunderstood
        answers = await dispatch()
        if msg.kind is not Kind.ACTION and turn.state.misunderstood == before:
            turn.state.misunderstood = 0
    held = turn.handoff_id or (request.id if request is not None
                               and request.status is not HandoffStatus.CLOSED else None)
    if held is not None:
        await conversations.record_shopper_message(session=session, handoff_id=held,
                                                   text=_said(turn))
        for answer in answers:
            await conversations.record_bot_reply(session=session, handoff_id=held,
                                                 text=answer.text)
    else:
        turn.state.recent = context.pushed(turn.shop.vault, turn.state.recent, _said(turn),
                                           [answer.text for answer in answers])
    return answers
