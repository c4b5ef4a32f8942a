"""A chat held by a person (issue 17), in the one turn path (bot/pipeline.py calls `run`).

While the chat's request is OPEN (waiting) or TAKEN (with a person):
- free text never reaches the NLU or handlers: it goes into the transcript (and so to
  the agent and the staff mirror), and the bot stays silent. Only while waiting, the
  first message gets one line ("passed on, you are number N") and after that at most one
  "still waiting, you are number N" every NOTICE_SPACING; with a person holding the chat
  there is nothing to add. "Back to the bot" (button or words) leaves.
- except while a dialog waits for typed data (`state.flow`: a return's words, a checkout
  address): the text goes to that dialog, and the turn is recorded in the transcript.
  Text the dialog does not take goes to the agent and is always acknowledged, so a
  shopper mid-dialog never types into silence.
- buttons and commands work as ever (the shopper may keep shopping while waiting); what
  they show is recorded in the transcript too, so the agent sees it.
- a request made while nobody was online (`offline`) has the agent's answers copied by
  email. Once the shopper is back in the chat while a person holds it (any message or
  button), the talk is live and the copies stop.
With the bot: "human", "agent" or "a real person" asks for one from anywhere; inside a
dialog waiting for data only a message that is just such a request does (so
"agent.smith@example.com" or "12 Agent Street" stays the dialog's), and the dialog waits.
Each turn is added to the sealed rolling context the agent sees when a request opens;
text the NLU keeps missing is counted (handlers/menu). A rating's comment is the next
free text within RATING_WINDOW of the rating; later text is for the bot as usual.
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
RATING_WINDOW = timedelta(minutes=30)
_PERSON = re.compile(r"\b(humans?|agents?|real person|real people)\b", re.IGNORECASE)
_EMAILS = re.compile(r"\S*@\S*")  # "agent.smith@example.com" asks for nobody
# Inside a dialog, the whole message must be a request for a person ("talk to an agent").
_ASKING = (r"(?:please\s+)?(?:(?:i|we)\s+(?:want|need|would\s+like|'?d\s+like)"
           r"(?:\s+to\s+(?:talk|speak|chat)\s+(?:to|with))?|(?:can|could|may)\s+i\s+"
           r"(?:talk|speak|chat)\s+(?:to|with)|(?:let\s+me\s+)?(?:talk|speak|chat)\s+"
           r"(?:to|with)|get\s+me|give\s+me|connect\s+me\s+(?:to|with))\s+")
_WHO = r"(?:an?\s+|the\s+)?(?:real\s+|live\s+)?"
_ONLY_PERSON = re.compile(
    rf"^\W*(?:{_ASKING}{_WHO}(?:humans?|agents?|person|people|someone)"
    r"|(?:an?\s+)?(?:humans?|agents?|(?:real|live)\s+(?:person|people)))"
    r"(?:\s+please)?\W*$", re.IGNORECASE)
_LEAVE = re.compile(r"^\W*(back to (the )?bot|leave (the )?queue|cancel (my |the )?request|"
                    r"never ?mind)\W*$", re.IGNORECASE)
# A return is the shopper's own to start (bot/dialogs/returns.py): while they wait, words
# like these are passed on and also get the button that starts one, so none is lost.
_RETURN = re.compile(r"\b(return|returns|returning|refund|send (it|them) back)\b", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,24}$")


def leave_row() -> tuple[Button, ...]:
    return (Button(_("Back to the bot"), "tobot"), Button(_("Menu"), "menu"))


def asks_for_person(text: str, in_dialog: bool = False) -> bool:
    """Words asking for a person; inside a dialog waiting for data, only a message that is
    nothing but such a request (an email or an address there is the dialog's answer)."""
    if in_dialog:
        return bool(_ONLY_PERSON.match(text.strip()))
    return bool(_PERSON.search(_EMAILS.sub(" ", text)))


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


async def _while_held(turn: Turn, request: HandoffRequest, in_dialog: bool) -> list[Reply]:
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
    rows: tuple[tuple[Button, ...], ...] = (leave_row(),)
    if request.status is HandoffStatus.OPEN and _RETURN.search(text):
        rows = ((Button(_("Return items"), "returns"),), leave_row())
        answer = answer or _("Your message was passed on to our team. You can also start "
                             "the return yourself now.")
    if answer is None and in_dialog:  # a dialog waits: silence would read as lost words
        answer = _("Your message was passed on to our team. To carry on where we were, "
                   "use the buttons above or answer my last question.")
    if answer is None:
        return []
    await conversations.record_bot_reply(session=session, handoff_id=request.id, text=answer)
    return [Reply(answer, buttons=rows)]


def _in_dialog(turn: Turn) -> bool:
    """A dialog is under way and may wait for typed data (a rating's comment is no dialog)."""
    return turn.state.flow is not None and turn.state.flow != RATING_FLOW


def _rating_expired(turn: Turn) -> None:
    """A rating's comment is only the next free text for RATING_WINDOW after the rating."""
    if turn.state.flow != RATING_FLOW:
        return
    try:
        rated = datetime.fromisoformat(str(turn.state.slots.get("rated_at")))
    except ValueError:
        rated = None
    if rated is None or now() - rated > RATING_WINDOW:
        turn.state.finish()


async def run(turn: Turn, dispatch: Callable[[], Awaitable[list[Reply]]],
              router: Router) -> list[Reply]:
    """The turn, with a person in the loop when the chat has asked for one."""
    msg, session = turn.msg, turn.session
    _rating_expired(turn)
    request = await conversations.active_for_chat(session=session,
                                                  chat_key=msg.chat.session_key)
    if request is not None and request.status is HandoffStatus.TAKEN and request.offline:
        await conversations.shopper_is_back(session=session, handoff_id=request.id,
                                            actor=turn.actor)
    answers: list[Reply] | None = None
    if request is not None and msg.kind is Kind.TEXT:
        turn.state.misunderstood = 0
        flow = router.flows.get(turn.state.flow or "") if _in_dialog(turn) else None
        if flow is not None and not wants_to_leave(msg.text.strip()):
            answers = await flow(turn)  # a return's words, an address: the dialog's
        if answers is None:
            return await _while_held(turn, request, _in_dialog(turn))
    elif (request is None and msg.kind is Kind.TEXT and turn.state.flow != RATING_FLOW
            and asks_for_person(msg.text, in_dialog=_in_dialog(turn))):
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
