"""Questions answered from the FAQ, and asking for a person."""

from __future__ import annotations

from datetime import datetime

from bot import held, replies
from bot.help_centre import anchor
from bot.messages import Button, Link, Reply
from bot.router import Router
from bot.turn import Turn
from core.accounts.models import User
from core.clock import now
from core.i18n import _
from core.support import context, conversations
from core.support import hours as support_hours
from core.support import service as support
from core.support.hours import Hours
from core.support.models import HandoffRequest, HandoffStatus

router = Router()
HUMAN = (Button("Talk to a person", "human"), Button("Menu", "menu"))


def _when(hours: Hours, moment: datetime) -> str:
    opening = hours.next_open(moment)
    return _("{day} at {time} ({zone})", day=opening.strftime("%A"),
             time=opening.strftime("%H:%M"), zone=hours.zone)


async def _status(turn: Turn, request: HandoffRequest) -> list[Reply]:
    turn.handoff_id = request.id
    if request.status is HandoffStatus.TAKEN:
        text = _("You are talking with our team already: just type your message here.")
    else:
        position = await conversations.queue_position(session=turn.session, request=request)
        text = _("You are already in the queue for a person: you are number {position}. "
                 "They will join this chat.", position=position)
    return [Reply(text, buttons=(held.leave_row(),))]


async def _handoff(turn: Turn, reason: str, opening: str) -> list[Reply]:
    session, key = turn.session, turn.msg.chat.session_key
    existing = await conversations.active_for_chat(session=session, chat_key=key)
    if existing is not None:
        return await _status(turn, existing)
    if turn.state.flow == held.RATING_FLOW:  # what they type now is for the person
        turn.state.finish()
    hours, moment = turn.shop.settings.hours, now()
    in_hours = support_hours.is_open(hours, moment)
    online = in_hours and await conversations.staff_online(session=session) > 0
    email = None
    if turn.user_id is not None:
        account = await session.get(User, turn.user_id)
        email = account.email if account else None
    request, _created = await conversations.ask(
        session=session, identity_id=turn.seen.identity_id, chat_key=key, reason=reason,
        actor=turn.actor, context=context.opened(turn.shop.vault, turn.state.recent),
        offline=not online, email=email)
    turn.handoff_id = request.id
    sentences = [opening]
    if online:
        position = await conversations.queue_position(session=session, request=request)
        sentences.append(_("A member of our team will join this chat as soon as one is free; "
                           "you are number {position} in the queue.", position=position))
        sentences.append(_("Until then I stay quiet: what you type goes to them."))
    else:
        if hours is not None and not in_hours:
            sentences.append(_("Nobody is online now; we answer here by {when}.",
                               when=_when(hours, moment)))
        else:
            sentences.append(_("Nobody from our team is online right now; someone will join "
                               "this chat as soon as they are back."))
        sentences.append(_("Your request is kept, so you can leave this chat meanwhile."))
        if email:
            sentences.append(_("We will also send our answer to {email}.", email=email))
        else:
            sentences.append(_("If you like, type your email address and we will also "
                               "answer there."))
    return [Reply(" ".join(sentences), buttons=(held.leave_row(),))]


@router.action("human")
@router.intent("talk_to_human")
async def human(turn: Turn) -> list[Reply]:
    return await _handoff(turn, turn.msg.text[:500], _("Sure."))


@router.action("tobot")
async def back_to_bot(turn: Turn) -> list[Reply]:
    """Leave the queue, or end the talk with a person: the bot answers again."""
    request = await conversations.active_for_chat(session=turn.session,
                                                  chat_key=turn.msg.chat.session_key)
    if request is not None:
        await conversations.leave(session=turn.session, handoff_id=request.id,
                                  actor=turn.actor)
    return [replies.menu(_("You're back with the bot. What would you like to do?"))]


@router.action("rate")
async def rate(turn: Turn) -> list[Reply]:
    assert turn.action is not None
    handoff_id, rating = turn.action.args
    await conversations.rate(session=turn.session, handoff_id=handoff_id, rating=rating,
                             identity_id=turn.seen.identity_id, actor=turn.actor)
    turn.state.start(held.RATING_FLOW, "comment")
    turn.state.slots.update(handoff=handoff_id, rated_at=now().isoformat())
    return [Reply(_("Thank you! Anything you would like to add? Type a comment, or press "
                    "No comment."),
                  buttons=(tuple(Button(b["label"], b["action"]) for b in
                                 conversations.no_comment_buttons(handoff_id)[0]),))]


@router.action("ratenc")
async def no_comment(turn: Turn) -> list[Reply]:
    if turn.state.flow == held.RATING_FLOW:
        turn.state.finish()
    return [replies.menu(_("Thanks for your feedback. What would you like to do next?"))]


@router.flow(held.RATING_FLOW)
async def rating_comment(turn: Turn) -> list[Reply] | None:
    """The next free text after a rating is its comment (within held.RATING_WINDOW)."""
    handoff_id = int(turn.state.slots.get("handoff", 0))
    turn.state.finish()
    await conversations.rate_comment(session=turn.session, handoff_id=handoff_id,
                                     comment=turn.msg.text, identity_id=turn.seen.identity_id,
                                     actor=turn.actor)
    return [replies.menu(_("Thank you, your comment was passed on to our team."))]


def help_centre(turn: Turn, entry_id: int | None = None) -> Link:
    """A link to the help centre (GET /help), at one answer when given."""
    url = f"{turn.shop.settings.base_url}/help"
    if entry_id is None:
        return Link(_("All questions in the help centre"), url)
    return Link(_("Read it in the help centre"), f"{url}#{anchor(entry_id)}")


@router.action("faq")
async def faq_list(turn: Turn, opening: str | None = None) -> list[Reply]:
    entries = await support.published(session=turn.session)
    if not entries:
        return [Reply("Ask me anything about the shop, or talk to a person.", buttons=(HUMAN,))]
    text = (opening or _("Common questions — just ask one in your own words:")) + "\n" + \
        "\n".join(f"• {entry.question}" for entry in entries[:10])
    return [Reply(text, buttons=(HUMAN,), links=(help_centre(turn),))]


@router.intent("faq")
async def faq(turn: Turn) -> list[Reply]:
    """The answer that fits, linked to its place in the help centre; else no guess."""
    entry = await support.best_answer(session=turn.session, text=turn.msg.text)
    if entry is None:
        return await faq_list(turn, _("I don't know the answer to that one. A person can "
                                      "help, or one of these may be what you mean:"))
    return [Reply(f"{entry.question}\n{entry.answer}", buttons=(HUMAN,),
                  links=(help_centre(turn, entry.id),))]


@router.intent("privacy_request")
async def not_in_chat_yet(turn: Turn) -> list[Reply]:
    """Privacy requests need a person until their own flow lands."""
    return [Reply("I can't change your personal data from the chat yet, but a person can "
                  "help you with it right away.", buttons=(HUMAN,))]
