"""FAQ lookup and handoff requests."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import service as audit
from core.audit.actor import Actor
from core.errors import InvalidInput, NotFound
from core.support.errors import SupportError
from core.support.models import FaqEntry, HandoffRequest, HandoffStatus

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an and are can do does for how i in is it my of on or the to what when "
                  "where which who why will with you your".split())


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in _WORD.findall(text.lower()) if w not in _STOP}


async def published(*, session: AsyncSession) -> list[FaqEntry]:
    rows = await session.scalars(select(FaqEntry).where(FaqEntry.is_published)
                                 .order_by(FaqEntry.position, FaqEntry.id))
    return list(rows)


async def best_answer(*, session: AsyncSession, text: str) -> FaqEntry | None:
    """The entry whose words overlap the question most (cosine); None when none share any."""
    asked = _words(text)
    best, best_score = None, 0.0
    for entry in await published(session=session):
        known = _words(f"{entry.question} {entry.keywords}")
        shared = len(asked & known)
        score = shared / ((len(asked) * len(known)) ** 0.5 or 1)
        if shared and score > best_score:
            best, best_score = entry, score
    return best


def _check_faq(question: str, answer: str) -> None:
    if len(question.strip()) < 5 or not answer.strip():
        raise InvalidInput(SupportError.FAQ_INVALID,
                           "An FAQ entry needs a question (5 characters or more) and an answer.")


async def add_faq(*, session: AsyncSession, question: str, answer: str, keywords: str = "",
                  actor: Actor) -> FaqEntry:
    _check_faq(question, answer)
    entry = FaqEntry(question=question.strip()[:200], answer=answer.strip(),
                     keywords=keywords.strip()[:400])
    session.add(entry)
    await session.flush()
    await audit.record(session=session, actor=actor, action="faq.created",
                       subject_type="faq", subject_id=entry.id)
    return entry


async def all_faq(*, session: AsyncSession) -> list[FaqEntry]:
    rows = await session.scalars(select(FaqEntry).order_by(FaqEntry.position, FaqEntry.id))
    return list(rows)


async def update_faq(*, session: AsyncSession, entry_id: int, question: str, answer: str,
                     keywords: str, published: bool, actor: Actor) -> FaqEntry:
    """Change an entry (the bot answers from the new text at once); the event says what."""
    _check_faq(question, answer)
    entry = await session.get(FaqEntry, entry_id)
    if entry is None:
        raise NotFound(SupportError.FAQ_NOT_FOUND, "No such FAQ entry.")
    proposed = {"question": question.strip()[:200], "answer": answer.strip(),
                "keywords": keywords.strip()[:400], "is_published": published}
    changed = {k: v for k, v in proposed.items() if getattr(entry, k) != v}
    for key, value in changed.items():
        setattr(entry, key, value)
    if changed:
        await audit.record(session=session, actor=actor, action="faq.updated",
                           subject_type="faq", subject_id=entry.id,
                           data={"changed": sorted(changed)})
    return entry


async def request_handoff(*, session: AsyncSession, identity_id: int, chat_key: str,
                          reason: str, actor: Actor) -> tuple[HandoffRequest, bool]:
    """Open a request, or return the one already open for this chat (and False)."""
    existing = await session.scalar(
        select(HandoffRequest).where(HandoffRequest.chat_key == chat_key,
                                     HandoffRequest.status != HandoffStatus.CLOSED))
    if existing is not None:
        return existing, False
    request = HandoffRequest(identity_id=identity_id, chat_key=chat_key,
                             reason=reason.strip()[:1000])
    session.add(request)
    await session.flush()
    await audit.record(session=session, actor=actor, action="support.handoff_requested",
                       subject_type="handoff", subject_id=request.id)
    return request, True
