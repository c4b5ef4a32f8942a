"""Questions answered from the FAQ, and asking for a person."""

from __future__ import annotations

from bot import replies
from bot.messages import Button, Reply
from bot.router import Router
from bot.turn import Turn
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


@router.action("faq")
async def faq_list(turn: Turn) -> list[Reply]:
    entries = await support.published(session=turn.session)
    if not entries:
        return [Reply("Ask me anything about the shop, or talk to a person.", buttons=(HUMAN,))]
    text = "Common questions — just ask one in your own words:\n" + "\n".join(
        f"• {entry.question}" for entry in entries[:10])
    return [Reply(text, buttons=(HUMAN,))]


@router.intent("faq")
async def faq(turn: Turn) -> list[Reply]:
    entry = await support.best_answer(session=turn.session, text=turn.msg.text)
    if entry is None:
        return await faq_list(turn)
    return [Reply(f"{entry.question}\n{entry.answer}", buttons=(HUMAN,))]


TOPICS = {"notification_preferences": "your notification settings",
          "privacy_request": "your personal data"}


@router.intent(*TOPICS)
async def not_in_chat_yet(turn: Turn) -> list[Reply]:
    """Notification and privacy requests need a person until their own flows land."""
    intent = turn.understood.intent if turn.understood else None
    topic = TOPICS.get(intent or "", "that")
    return [Reply(f"I can't change {topic} from the chat yet, but a person can help you "
                  "with it right away.", buttons=(HUMAN,))]
