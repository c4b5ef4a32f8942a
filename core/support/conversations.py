"""A conversation a person holds (issue 17), channel-neutral: the interface the bot, the
console and the Slack support thread all use.

States (core/support/states.py): OPEN waiting, TAKEN with one person, CLOSED back with the
bot. Every change takes the request's row lock first (FOR UPDATE on PostgreSQL; SQLite has
one writer), so two agents taking at once: one wins, the other is told who has it.

The transcript (`support_messages`) is the one place conversation text is kept: sealed
with the shop's Vault (`session.info[VAULT]`, as core.outbox does), with who, where and
when. Text for the shopper goes through the outbox to the chat the request came from;
each entry is also queued to `mirror_key` (a staff surface such as a Slack thread) unless
it was typed there. core knows only chat keys, never what is behind them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import Role, User
from core.audit import service as audit
from core.audit.actor import Actor
from core.clock import now
from core.crypto import Vault
from core.errors import Conflict, InvalidInput, NotFound
from core.i18n import _
from core.nudges import staff_alerts
from core.outbox import service as outbox
from core.support.errors import SupportError
from core.support.models import (
    Author,
    HandoffRequest,
    HandoffStatus,
    Origin,
    StaffPresence,
    SupportMessage,
)
from core.support.states import ACTIVE

MAX_TEXT = 4000
STAFF = (Role.ADMIN, Role.SUPPORT)
ONLINE = timedelta(minutes=5)       # staff who acted this recently are "online"
EMAIL_PLATFORM = "email"            # outbox key `email:support-<id>`: a copy by email
TICKET_MAIL = "support"             # ... `email:support-<handoff id>`: to the shopper
STAFF_MAIL = "staff"                # ... `email:staff-<user id>`: to a member of staff
# The rating question's buttons: `rate:<handoff id>:<1..5>`, and the comment skip.
RATE_ACTION = "rate"
SEALED_PREFIX = "gAAAAA"  # how every Fernet token (core/crypto.py) begins
NO_COMMENT_ACTION = "ratenc"


def _vault(session: AsyncSession) -> Vault:
    vault = session.info.get(outbox.VAULT)
    if not isinstance(vault, Vault):
        raise RuntimeError("core.support needs the shop's Vault in session.info[VAULT]")
    return vault


def seal(session: AsyncSession, text: str) -> str:
    return _vault(session).seal({"text": text})


def unseal(session: AsyncSession, token: str | None) -> str | None:
    if token is None:
        return None
    try:
        return str(_vault(session).open(token).get("text", ""))
    except ValueError:
        return None


def _clean(text: str) -> str:
    cleaned = text.strip()
    if not cleaned or len(cleaned) > MAX_TEXT:
        raise InvalidInput(SupportError.MESSAGE_INVALID,
                           f"A message needs some text, at most {MAX_TEXT:,} characters.")
    return cleaned


async def locked(session: AsyncSession, handoff_id: int) -> HandoffRequest:
    """The request, holding its row lock until the transaction ends."""
    found = await session.get(HandoffRequest, handoff_id, with_for_update=True,
                              populate_existing=True)
    if found is None:
        raise NotFound(SupportError.HANDOFF_NOT_FOUND, "No such support conversation.")
    return found


async def _name(session: AsyncSession, staff_id: int | None) -> str:
    user = await session.get(User, staff_id) if staff_id else None
    return user.email if user else "Someone"


async def _holder_refusal(session: AsyncSession, request: HandoffRequest,
                          staff_id: int) -> None:
    if request.status is HandoffStatus.CLOSED:
        raise Conflict(SupportError.HANDOFF_CLOSED,
                       "This conversation is already closed (resolved): the shopper is back "
                       "with the bot.")
    if request.status is HandoffStatus.TAKEN and request.taken_by_id != staff_id:
        raise Conflict(SupportError.HANDOFF_TAKEN,
                       f"{await _name(session, request.taken_by_id)} has already taken it.",
                       holder_id=request.taken_by_id)


def _mirror_text(author: Author, who: str, text: str) -> str:
    if author is Author.SHOPPER:
        return _("Shopper: {text}", text=text)
    if author is Author.BOT:
        return _("Bot: {text}", text=text)
    if author is Author.AGENT:
        return _("{agent}: {text}", agent=who, text=text)
    if author is Author.NOTE:
        return _("Note from {agent} (the shopper does not see it): {text}", agent=who,
                 text=text)
    return text


async def _record(session: AsyncSession, request: HandoffRequest, author: Author, text: str,
                  *, staff_id: int | None = None, origin: Origin = Origin.CHAT,
                  context: bool = False, mirror: bool = True) -> SupportMessage:
    entry = SupportMessage(handoff_id=request.id, author=author, staff_id=staff_id,
                           origin=origin, sealed=seal(session, text), context=context)
    session.add(entry)
    if mirror and request.mirror_key and origin is not Origin.MIRROR:
        who = await _name(session, staff_id) if staff_id else ""
        await outbox.enqueue(session=session, chat_key=request.mirror_key,
                             text=_mirror_text(author, who, text))
    return entry


async def _to_shopper(session: AsyncSession, request: HandoffRequest, text: str,
                      buttons: list[list[dict[str, str]]] | None = None) -> None:
    await outbox.enqueue(session=session, chat_key=request.chat_key, text=text,
                         buttons=buttons)


async def _agent_label(session: AsyncSession, staff_id: int) -> str:
    user = await session.get(User, staff_id)
    return (user.display_name if user and user.display_name else "") or _("Our team")


async def _joined(session: AsyncSession, staff_id: int) -> str:
    user = await session.get(User, staff_id)
    if user is not None and user.display_name:
        return _("{agent} from our team has joined the chat.", agent=user.display_name)
    return _("Someone from our team has joined the chat.")


async def _check_staff(session: AsyncSession, staff_id: int) -> User:
    user = await session.get(User, staff_id)
    if user is None or not user.is_active or user.role not in STAFF:
        raise InvalidInput(SupportError.STAFF_INVALID, "No such member of staff.")
    return user


# --- asking for a person ---------------------------------------------------------------

async def active_for_chat(*, session: AsyncSession, chat_key: str) -> HandoffRequest | None:
    """The chat's request waiting or with a person; None = the chat is with the bot."""
    return await session.scalar(
        select(HandoffRequest).where(HandoffRequest.chat_key == chat_key,
                                     HandoffRequest.status.in_(list(ACTIVE)))
        .order_by(HandoffRequest.id.desc()).limit(1))


async def ask(*, session: AsyncSession, identity_id: int, chat_key: str, reason: str,
              actor: Actor, context: Sequence[tuple[str, str]] = (),
              offline: bool = False, email: str | None = None) -> tuple[HandoffRequest, bool]:
    """Open a request (True), or return the chat's open one (False). `context` is the
    chat's last turns before it, as (author "shopper"|"bot", text), copied in for the
    agent; `offline` marks a request made when nobody answers now (answers are also
    emailed to `email` when one is known)."""
    existing = await active_for_chat(session=session, chat_key=chat_key)
    if existing is not None:
        return existing, False
    words = reason.strip()[:1000]
    request = HandoffRequest(identity_id=identity_id, chat_key=chat_key,
                             reason=seal(session, words) if words else "", offline=offline,
                             contact_email=seal(session, email) if email else None)
    session.add(request)
    await session.flush()
    for author, text in list(context)[-40:]:
        kind = Author.SHOPPER if author == "shopper" else Author.BOT
        await _record(session, request, kind, text[:MAX_TEXT], context=True, mirror=False)
    await audit.record(session=session, actor=actor, action="support.handoff_requested",
                       subject_type="handoff", subject_id=request.id,
                       data={"offline": offline})
    return request, True


async def set_contact_email(*, session: AsyncSession, handoff_id: int, email: str,
                            actor: Actor) -> HandoffRequest:
    request = await locked(session, handoff_id)
    request.contact_email = seal(session, email)
    await audit.record(session=session, actor=actor, action="support.contact_email_given",
                       subject_type="handoff", subject_id=request.id)
    return request


def reason_of(session: AsyncSession, request: HandoffRequest) -> str:
    """The shopper's words when they asked, opened. Sealed since they are personal data;
    a request stored before that holds them plain, and reads as it is."""
    raw = request.reason or ""
    if raw.startswith(SEALED_PREFIX):
        return unseal(session, raw) or ""
    return raw


def contact_email(session: AsyncSession, request: HandoffRequest) -> str | None:
    return unseal(session, request.contact_email)


async def queue_position(*, session: AsyncSession, request: HandoffRequest) -> int:
    """1 for the oldest request nobody has taken yet (first come, first served)."""
    ahead = await session.scalar(select(func.count()).select_from(HandoffRequest).where(
        HandoffRequest.status == HandoffStatus.OPEN, HandoffRequest.id < request.id))
    return int(ahead or 0) + 1


# --- the shopper's side --------------------------------------------------------------------

async def record_shopper_message(*, session: AsyncSession, handoff_id: int,
                                 text: str) -> SupportMessage:
    """The row lock first, as `set_mirror` takes it: an entry is then either recorded before
    the mirror is set (and the mirror's poster finds it in the transcript) or after (and is
    mirrored here), never lost in between."""
    request = await locked(session, handoff_id)
    return await _record(session, request, Author.SHOPPER, text[:MAX_TEXT])


async def record_bot_reply(*, session: AsyncSession, handoff_id: int,
                           text: str) -> SupportMessage:
    request = await locked(session, handoff_id)  # as record_shopper_message
    return await _record(session, request, Author.BOT, text[:MAX_TEXT])


async def shopper_is_back(*, session: AsyncSession, handoff_id: int,
                          actor: Actor) -> HandoffRequest:
    """The shopper wrote in the chat while a person holds it: the talk is live now, so an
    offline request's answers are no longer copied by email."""
    request = await locked(session, handoff_id)
    if request.status is HandoffStatus.TAKEN and request.offline:
        request.offline = False
        await audit.record(session=session, actor=actor, action="support.shopper_back",
                           subject_type="handoff", subject_id=request.id)
    return request


async def leave(*, session: AsyncSession, handoff_id: int, actor: Actor) -> HandoffRequest:
    """The shopper goes back to the bot (leaves the queue, or ends the talk with a person)."""
    request = await locked(session, handoff_id)
    if request.status is HandoffStatus.CLOSED:
        return request
    request.status, request.closed_at, request.close_reason = (
        HandoffStatus.CLOSED, now(), "left")
    await _record(session, request, Author.SYSTEM, _("The shopper went back to the bot."))
    await audit.record(session=session, actor=actor, action="support.handoff_left",
                       subject_type="handoff", subject_id=request.id)
    return request


async def close_for_chat(*, session: AsyncSession, chat_key: str, reason: str,
                         actor: Actor) -> list[int]:
    """Close what is open for a chat that cannot be reached any more (the shopper blocked
    the bot); returns the ids closed."""
    closed = []
    ids = list(await session.scalars(select(HandoffRequest.id).where(
        HandoffRequest.chat_key == chat_key, HandoffRequest.status.in_(list(ACTIVE)))))
    for handoff_id in ids:
        request = await locked(session, handoff_id)
        if request.status is HandoffStatus.CLOSED:
            continue
        request.status, request.closed_at, request.close_reason = (
            HandoffStatus.CLOSED, now(), reason[:24])
        await _record(session, request, Author.SYSTEM,
                      _("The chat can no longer be reached ({reason}); closed.", reason=reason))
        await audit.record(session=session, actor=actor, action="support.handoff_closed",
                           subject_type="handoff", subject_id=request.id,
                           data={"reason": reason[:24]})
        closed.append(request.id)
    return closed


def rating_buttons(handoff_id: int) -> list[list[dict[str, str]]]:
    return [[{"label": str(n), "action": f"{RATE_ACTION}:{handoff_id}:{n}"}
             for n in range(1, 6)]]


def no_comment_buttons(handoff_id: int) -> list[list[dict[str, str]]]:
    return [[{"label": _("No comment"), "action": f"{NO_COMMENT_ACTION}:{handoff_id}"}]]


async def rate(*, session: AsyncSession, handoff_id: int, rating: int, identity_id: int,
               actor: Actor) -> HandoffRequest:
    """The shopper's 1-5 for a resolved conversation of their own chat; a second press
    changes it (the latest counts)."""
    if not 1 <= rating <= 5:
        raise InvalidInput(SupportError.RATING_INVALID, "Please pick a rating from 1 to 5.")
    request = await locked(session, handoff_id)
    if request.identity_id != identity_id or request.status is not HandoffStatus.CLOSED:
        raise NotFound(SupportError.HANDOFF_NOT_FOUND, "That rating button is no longer valid.")
    request.rating, request.rated_at = rating, now()
    await audit.record(session=session, actor=actor, action="support.rated",
                       subject_type="handoff", subject_id=request.id, data={"rating": rating})
    return request


async def rate_comment(*, session: AsyncSession, handoff_id: int, comment: str,
                       identity_id: int, actor: Actor) -> HandoffRequest:
    request = await locked(session, handoff_id)
    if request.identity_id != identity_id or request.rating is None:
        raise NotFound(SupportError.HANDOFF_NOT_FOUND, "There is no rating to comment on.")
    request.rating_comment = seal(session, comment.strip()[:1000])
    await audit.record(session=session, actor=actor, action="support.rating_commented",
                       subject_type="handoff", subject_id=request.id)
    return request


# --- staff's side --------------------------------------------------------------------------

async def _take(session: AsyncSession, request: HandoffRequest, staff_id: int,
                origin: Origin, actor: Actor) -> None:
    request.status, request.taken_by_id, request.taken_at = (
        HandoffStatus.TAKEN, staff_id, now())
    await _record(session, request, Author.SYSTEM,
                  _("{agent} took the conversation.", agent=await _name(session, staff_id)),
                  staff_id=staff_id, origin=origin)
    await _to_shopper(session, request, await _joined(session, staff_id))
    await audit.record(session=session, actor=actor, action="support.handoff_taken",
                       subject_type="handoff", subject_id=request.id)


async def take(*, session: AsyncSession, handoff_id: int, staff_id: int, actor: Actor,
               origin: Origin = Origin.CONSOLE) -> HandoffRequest:
    """Take a waiting conversation; one someone else holds is refused by their name; one
    already yours changes nothing."""
    request = await locked(session, handoff_id)
    await _holder_refusal(session, request, staff_id)
    if request.status is HandoffStatus.OPEN:
        await _take(session, request, staff_id, origin, actor)
    await seen_staff(session=session, staff_id=staff_id)
    return request


async def transfer(*, session: AsyncSession, handoff_id: int, to_staff_id: int, actor: Actor,
                   origin: Origin = Origin.CONSOLE) -> HandoffRequest:
    """Hand a conversation to a colleague, who holds it from now on. A waiting one anyone
    of staff may hand on; a held one only its holder, or an admin (a reassignment)."""
    request = await locked(session, handoff_id)
    if request.status is HandoffStatus.CLOSED:
        raise Conflict(SupportError.HANDOFF_CLOSED,
                       "This conversation is already closed (resolved): the shopper is back "
                       "with the bot.")
    reassigned = await _may_transfer(session, request, actor)
    await _check_staff(session, to_staff_id)
    if request.taken_by_id == to_staff_id and request.status is HandoffStatus.TAKEN:
        return request
    before = request.taken_by_id
    request.status, request.taken_by_id, request.taken_at = (
        HandoffStatus.TAKEN, to_staff_id, now())
    await _record(session, request, Author.SYSTEM,
                  _("Transferred to {agent}.", agent=await _name(session, to_staff_id)),
                  staff_id=actor.user_id, origin=origin)
    await _to_shopper(session, request, await _joined(session, to_staff_id))
    await audit.record(session=session, actor=actor, action="support.handoff_transferred",
                       subject_type="handoff", subject_id=request.id,
                       data={"from": before, "to": to_staff_id,
                             **({"reassigned_by_admin": True} if reassigned else {})})
    return request


async def _may_transfer(session: AsyncSession, request: HandoffRequest, actor: Actor) -> bool:
    """Refuse a transfer of a conversation a colleague holds (taking it by the back door);
    True when an admin reassigns someone else's."""
    if request.status is not HandoffStatus.TAKEN or request.taken_by_id == actor.user_id:
        return False
    user = await session.get(User, actor.user_id) if actor.user_id else None
    if user is not None and user.is_active and user.role is Role.ADMIN:
        return True
    raise Conflict(SupportError.HANDOFF_TAKEN,
                   f"{await _name(session, request.taken_by_id)} holds this conversation: "
                   "only they or an admin can transfer it.", holder_id=request.taken_by_id)


async def agent_reply(*, session: AsyncSession, handoff_id: int, staff_id: int, text: str,
                      origin: Origin, actor: Actor) -> SupportMessage:
    """Send an agent's words to the shopper's chat (in order, through the outbox), record
    and mirror them. Replying to a waiting conversation takes it; a resolved one, or one a
    colleague holds, is refused with the reason."""
    cleaned = _clean(text)
    request = await locked(session, handoff_id)
    await _holder_refusal(session, request, staff_id)
    if request.status is HandoffStatus.OPEN:
        await _take(session, request, staff_id, origin, actor)
    entry = await _record(session, request, Author.AGENT, cleaned, staff_id=staff_id,
                          origin=origin)
    await _to_shopper(session, request, _("{agent}: {text}",
                                          agent=await _agent_label(session, staff_id),
                                          text=cleaned))
    if request.offline and request.contact_email:  # a ticket: the answer goes by email too
        await outbox.enqueue(session=session,
                             chat_key=f"{EMAIL_PLATFORM}:{TICKET_MAIL}-{request.id}",
                             text=cleaned)
    await audit.record(session=session, actor=actor, action="support.agent_replied",
                       subject_type="handoff", subject_id=request.id,
                       data={"origin": str(origin)})
    await seen_staff(session=session, staff_id=staff_id)
    return entry


async def add_note(*, session: AsyncSession, handoff_id: int, staff_id: int, text: str,
                   origin: Origin, actor: Actor) -> SupportMessage:
    """An internal note: in the transcript and the mirror, never sent to the shopper."""
    cleaned = _clean(text)
    request = await locked(session, handoff_id)
    entry = await _record(session, request, Author.NOTE, cleaned, staff_id=staff_id,
                          origin=origin)
    await audit.record(session=session, actor=actor, action="support.note_added",
                       subject_type="handoff", subject_id=request.id)
    return entry


async def resolve(*, session: AsyncSession, handoff_id: int, staff_id: int, actor: Actor,
                  origin: Origin = Origin.CONSOLE) -> HandoffRequest:
    """Hand the chat back to the bot: a short notice, then the rating question. Resolving
    one already closed changes nothing (any member of staff may resolve)."""
    request = await locked(session, handoff_id)
    if request.status is HandoffStatus.CLOSED:
        return request
    request.status, request.closed_at, request.close_reason = (
        HandoffStatus.CLOSED, now(), "resolved")
    request.resolved_by_id = staff_id
    if request.taken_by_id is None:
        request.taken_by_id = staff_id
    await _record(session, request, Author.SYSTEM,
                  _("{agent} resolved the conversation.", agent=await _name(session, staff_id)),
                  staff_id=staff_id, origin=origin)
    await _to_shopper(session, request, _("Our team has finished here; you are back with the "
                                          "shop's bot. Ask me anything, any time."))
    await _to_shopper(session, request, _("How did we do? Please rate this conversation "
                                          "from 1 (poor) to 5 (great)."),
                      rating_buttons(request.id))
    await audit.record(session=session, actor=actor, action="support.handoff_resolved",
                       subject_type="handoff", subject_id=request.id)
    return request


async def set_mirror(*, session: AsyncSession, handoff_id: int,
                     mirror_key: str | None) -> HandoffRequest:
    """Where staff see this conversation from now on. Entries recorded before are not
    re-sent: the caller shows them from `transcript`, read in this same transaction after
    this call (every recording path takes this row's lock, so none falls in between)."""
    request = await locked(session, handoff_id)
    request.mirror_key = mirror_key[:160] if mirror_key else None
    return request


async def handoff_for_mirror(*, session: AsyncSession,
                             mirror_key: str) -> HandoffRequest | None:
    return await session.scalar(select(HandoffRequest).where(
        HandoffRequest.mirror_key == mirror_key).order_by(HandoffRequest.id.desc()).limit(1))


@dataclass(frozen=True, slots=True)
class Entry:
    """A transcript entry opened for staff."""
    id: int
    author: Author
    text: str
    staff_id: int | None
    staff_email: str | None
    origin: Origin
    at: datetime
    context: bool       # from before the request (the last turns, for the agent)


async def transcript(*, session: AsyncSession, handoff_id: int,
                     after_id: int = 0) -> list[Entry]:
    """The conversation in order, opened (context turns first); `after_id` for what is new."""
    rows = await session.execute(
        select(SupportMessage, User.email).outerjoin(User, User.id == SupportMessage.staff_id)
        .where(SupportMessage.handoff_id == handoff_id, SupportMessage.id > after_id)
        .order_by(SupportMessage.id))
    return [Entry(m.id, m.author, unseal(session, m.sealed) or "", m.staff_id, email,
                  m.origin, m.created_at, m.context) for m, email in rows.all()]


# --- presence and ratings ------------------------------------------------------------------

async def seen_staff(*, session: AsyncSession, staff_id: int) -> None:
    """A staff member acted (console request, Slack action): they count as online."""
    row = await session.get(StaffPresence, staff_id)
    if row is None:
        session.add(StaffPresence(user_id=staff_id, seen_at=now()))
        await session.flush()
    else:
        row.seen_at = now()


async def staff_online(*, session: AsyncSession, within: timedelta = ONLINE) -> int:
    """How many staff acted lately: in the console (their signed-in session was used) or
    through seen_staff (an agent acting in Slack)."""
    from core.accounts.models import StaffSession

    since = now() - within
    console = select(StaffSession.user_id).where(StaffSession.revoked_at.is_(None),
                                                 StaffSession.last_seen_at >= since)
    acted = select(StaffPresence.user_id).where(StaffPresence.seen_at >= since)
    users = select(func.count()).select_from(User).where(
        User.is_active, User.role.in_(list(STAFF)),
        User.id.in_(console.union(acted).scalar_subquery()))
    return int(await session.scalar(users) or 0)


@dataclass(frozen=True, slots=True)
class Ratings:
    count: int
    average: Fraction | None     # exact; None when nothing is rated

    @property
    def tenths(self) -> int | None:
        """The average in tenths, rounded half up (42 = 4.2)."""
        if self.average is None:
            return None
        return int(self.average * 10 + Fraction(1, 2))


@dataclass(frozen=True, slots=True)
class RatingsSummary:
    overall: Ratings
    per_agent: dict[int, tuple[str, Ratings]]   # staff id -> (email, ratings)


async def ratings_summary(*, session: AsyncSession) -> RatingsSummary:
    """Ratings overall and per agent (the person who held the conversation when it was
    resolved, else who resolved it)."""
    agent = func.coalesce(HandoffRequest.taken_by_id, HandoffRequest.resolved_by_id)
    rows = (await session.execute(
        select(agent, User.email, func.count(), func.sum(HandoffRequest.rating))
        .outerjoin(User, User.id == agent)
        .where(HandoffRequest.rating.is_not(None)).group_by(agent, User.email))).all()
    total_count = sum(int(count) for _, _, count, _ in rows)
    total_sum = sum(int(points or 0) for _, _, _, points in rows)
    per_agent = {int(staff): (email or "", Ratings(int(count), Fraction(int(points), int(count))))
                 for staff, email, count, points in rows if staff is not None}
    overall = Ratings(total_count, Fraction(total_sum, total_count) if total_count else None)
    return RatingsSummary(overall, per_agent)


def staff_mail_key(user_id: int) -> str:
    """The outbox address of a mail to a member of staff (opened by the bot's mail sender)."""
    return f"{EMAIL_PLATFORM}:{STAFF_MAIL}-{user_id}"


async def escalate(*, session: AsyncSession, older_than: timedelta) -> list[int]:
    """Waiting requests nobody took within `older_than`: each is marked (`escalated_at`)
    and a staff alert recorded in the same transaction, so each request is announced once
    however many sweepers run; core.nudges.staff_alerts sends the alerts batched, to the
    alerts channel and every active admin. Returns the ids marked."""
    rows = list(await session.scalars(
        select(HandoffRequest).where(HandoffRequest.status == HandoffStatus.OPEN,
                                     HandoffRequest.escalated_at.is_(None),
                                     HandoffRequest.created_at <= now() - older_than)
        .order_by(HandoffRequest.id).limit(50).with_for_update(skip_locked=True)))
    for request in rows:
        request.escalated_at = now()
        await staff_alerts.shopper_waiting(session=session, handoff_id=request.id)
    return [request.id for request in rows]
