"""FAQ lookup and handoff requests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.accounts.models import ChatIdentity, User
from core.audit import service as audit
from core.audit.actor import Actor
from core.errors import InvalidInput, NotFound
from core.support import conversations, faq_search
from core.support.errors import SupportError
from core.support.models import FaqEntry, HandoffRequest, HandoffStatus


async def published(*, session: AsyncSession) -> list[FaqEntry]:
    rows = await session.scalars(select(FaqEntry).where(FaqEntry.is_published)
                                 .order_by(FaqEntry.position, FaqEntry.id))
    return list(rows)


async def best_answer(*, session: AsyncSession, text: str) -> FaqEntry | None:
    """The published entry that answers `text` (BM25, core/support/faq_search.py); None
    when none does, so the shopper hears "I don't know" and is offered a person."""
    found = faq_search.rank(await published(session=session), text)
    return found[0] if found else None


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
    return await conversations.ask(session=session, identity_id=identity_id,
                                   chat_key=chat_key, reason=reason, actor=actor)


async def waiting_count(*, session: AsyncSession) -> int:
    """Requests nobody has taken yet."""
    count = await session.scalar(select(func.count()).select_from(HandoffRequest).where(
        HandoffRequest.status == HandoffStatus.OPEN))
    return int(count or 0)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A request as staff see it: who is asking, where, and who (if anyone) has it."""
    request: HandoffRequest
    platform: str
    name: str
    account_email: str | None
    taken_by: str | None
    reason: str = ""   # the shopper's words when they asked, opened


async def handoffs(*, session: AsyncSession, closed: bool = False,
                   limit: int = 100) -> list[Waiting]:
    """Requests still open (oldest first: first come, first served), or recently closed."""
    taker = aliased(User)
    query = (select(HandoffRequest, ChatIdentity.platform, ChatIdentity.display_name,
                    User.email, taker.email)
             .join(ChatIdentity, ChatIdentity.id == HandoffRequest.identity_id)
             .outerjoin(User, User.id == ChatIdentity.user_id)
             .outerjoin(taker, taker.id == HandoffRequest.taken_by_id))
    if closed:
        query = query.where(HandoffRequest.status == HandoffStatus.CLOSED).order_by(
            HandoffRequest.closed_at.desc())
    else:
        query = query.where(HandoffRequest.status != HandoffStatus.CLOSED).order_by(
            HandoffRequest.created_at, HandoffRequest.id)
    rows = await session.execute(query.limit(limit))
    return [Waiting(request, platform, name or "", email, taken,
                    conversations.reason_of(session, request))
            for request, platform, name, email, taken in rows.all()]


async def take_handoff(*, session: AsyncSession, request_id: int, staff_id: int,
                       actor: Actor) -> HandoffRequest:
    """A staff member takes a request; taking one someone else has is refused by name."""
    return await conversations.take(session=session, handoff_id=request_id,
                                    staff_id=staff_id, actor=actor)


async def close_handoff(*, session: AsyncSession, request_id: int,
                        actor: Actor) -> HandoffRequest:
    """The shopper was helped: resolved, back to the bot (with the notice and the rating
    question). Any staff member may close a request (a colleague's too, when they are
    away); closing one that is closed already changes nothing."""
    if actor.user_id is None:
        return await conversations.leave(session=session, handoff_id=request_id, actor=actor)
    return await conversations.resolve(session=session, handoff_id=request_id,
                                       staff_id=actor.user_id, actor=actor)
