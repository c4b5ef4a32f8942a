"""Questions answered from the FAQ, and asking for a person."""

from __future__ import annotations

from bot import replies
from bot.help_centre import anchor
from bot.messages import Button, Link, Reply
from bot.router import Router
from bot.turn import Turn
from core.i18n import _
from core.support import service as support

router = Router()
HUMAN = (Button("Talk to a person", "human"), Button("Menu", "menu"))


async def _handoff(turn: Turn, reason: str, opening: str) -> list[Reply]:
    _, created = await support.request_handoff(
        session=turn.session, identity_id=turn.seen.identity_id,
        chat_key=turn.msg.chat.session_key, reason=reason, actor=turn.actor)
    later = ("A member of our team will join this chat as soon as one is free; "
             "you can keep shopping meanwhile.") if created else (
             "You are already in the queue for a person; they will join this chat soon.")
    return [Reply(f"{opening} {later}", buttons=(replies.MENU_ROW,))]


@router.action("human")
@router.intent("talk_to_human")
async def human(turn: Turn) -> list[Reply]:
    return await _handoff(turn, turn.msg.text[:500], "Sure.")


@router.intent("return_request")
async def returns(turn: Turn) -> list[Reply]:
    return await _handoff(turn, f"return request: {turn.msg.text[:480]}",
                          "I'll pass your return request to our team.")


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


TOPICS = {"notification_preferences": "your notification settings",
          "privacy_request": "your personal data"}


@router.intent(*TOPICS)
async def not_in_chat_yet(turn: Turn) -> list[Reply]:
    """Notification and privacy requests need a person until their own flows land."""
    intent = turn.understood.intent if turn.understood else None
    topic = TOPICS.get(intent or "", "that")
    return [Reply(f"I can't change {topic} from the chat yet, but a person can help you "
                  "with it right away.", buttons=(HUMAN,))]
