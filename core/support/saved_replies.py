"""Saved replies: answers staff write once and pick in the console's reply box. Not
personal data (staff write them for every shopper), so kept as plain text; every change
audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import service as audit
from core.audit.actor import Actor
from core.errors import InvalidInput, NotFound
from core.support.errors import SupportError
from core.support.models import SavedReply

MAX_TITLE = 120
MAX_TEXT = 4000  # as an agent's message (core/support/conversations.py)


def _checked(title: str, text: str) -> tuple[str, str]:
    title, text = title.strip(), text.strip()
    if not title or len(title) > MAX_TITLE or not text or len(text) > MAX_TEXT:
        raise InvalidInput(SupportError.SAVED_REPLY_INVALID,
                           f"A saved reply needs a title (at most {MAX_TITLE} characters) "
                           f"and a text (at most {MAX_TEXT:,}).")
    return title, text


async def all_replies(*, session: AsyncSession) -> list[SavedReply]:
    """Every saved reply, by title."""
    return list(await session.scalars(select(SavedReply).order_by(SavedReply.title,
                                                                  SavedReply.id)))


async def get(*, session: AsyncSession, reply_id: int) -> SavedReply:
    found = await session.get(SavedReply, reply_id)
    if found is None:
        raise NotFound(SupportError.SAVED_REPLY_INVALID, "No such saved reply.")
    return found


async def add(*, session: AsyncSession, title: str, text: str, staff_id: int,
              actor: Actor) -> SavedReply:
    title, text = _checked(title, text)
    reply = SavedReply(title=title, text=text, created_by_id=staff_id)
    session.add(reply)
    await session.flush()
    await audit.record(session=session, actor=actor, action="support.saved_reply_created",
                       subject_type="saved_reply", subject_id=reply.id)
    return reply


async def update(*, session: AsyncSession, reply_id: int, title: str, text: str,
                 actor: Actor) -> SavedReply:
    """Change a saved reply; saving it unchanged records nothing."""
    title, text = _checked(title, text)
    reply = await get(session=session, reply_id=reply_id)
    changed = sorted(name for name, value in (("title", title), ("text", text))
                     if getattr(reply, name) != value)
    if changed:
        reply.title, reply.text = title, text
        await audit.record(session=session, actor=actor, action="support.saved_reply_updated",
                           subject_type="saved_reply", subject_id=reply.id,
                           data={"changed": changed})
    return reply


async def delete(*, session: AsyncSession, reply_id: int, actor: Actor) -> None:
    """Remove a saved reply; one already gone changes nothing (a second click)."""
    reply = await session.get(SavedReply, reply_id)
    if reply is None:
        return
    await session.delete(reply)
    await audit.record(session=session, actor=actor, action="support.saved_reply_deleted",
                       subject_type="saved_reply", subject_id=reply_id,
                       data={"title": reply.title})
