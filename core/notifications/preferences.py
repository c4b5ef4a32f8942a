"""What a shopper chose to hear, and the rules that read those choices.

The rules (`allowed`, `not_before`) are pure functions, so they are tested as properties:
account and security notices always go; marketing and cart reminders never go without the
shopper's yes; SMS never goes to a number the shopper did not agree to; quiet hours hold
back what is not urgent until they end, in the shopper's own time zone.

Whose choices: `holder_for` names an account (`user:<id>`), else a guest's order email
(`email:<keyed digest>`), else a chat with neither (`chat:<keyed digest>`). The digests
are keyed with the shop's secret, so the table holds no address a dictionary could undo.
Which holder a chat or an order reads is
core.notifications.holders' to say; several are read as one by `Choices.combined`.
Every change is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import service as audit
from core.audit.actor import Actor
from core.crypto import Vault
from core.notifications.events import Channel
from core.notifications.kinds import ALWAYS_ON, OPT_IN, Category
from core.notifications.models import NotificationPreference

DAY_MINUTES = 24 * 60


class PreferenceError(ValueError):
    """A change that cannot be made; the message says why in words a shopper reads."""


@dataclass(frozen=True, slots=True)
class Choices:
    """One holder's choices as the rules read them (no row: `Choices()`, the defaults)."""

    picked: dict[str, bool] = field(default_factory=dict)   # "<category>:<channel>"
    sms_agreed: bool = False
    time_zone: str | None = None
    quiet_from: int | None = None
    quiet_until: int | None = None

    @classmethod
    def of(cls, row: NotificationPreference | None) -> Choices:
        if row is None:
            return cls()
        return cls(picked={k: bool(v) for k, v in (row.choices or {}).items()},
                   sms_agreed=row.sms_agreed_at is not None and bool(row.sms_phone_sealed),
                   time_zone=row.time_zone, quiet_from=row.quiet_from,
                   quiet_until=row.quiet_until)

    @classmethod
    def combined(cls, several: Sequence[Choices]) -> Choices:
        """The choices of several holders read as one (an order's chat and email): for
        each "<category>:<channel>", an explicit off from any holder wins, else an explicit
        on from any counts (so opt-in needs one yes, and default-on stays on); SMS is
        agreed if any holder agreed; quiet hours and time zone are the first holder's that
        has them."""
        picked: dict[str, bool] = {}
        for choices in several:
            for key, on in choices.picked.items():
                picked[key] = picked.get(key, True) and on
        quiet = next((c for c in several
                      if c.quiet_from is not None and c.quiet_until is not None), None)
        zone = quiet.time_zone if quiet and quiet.time_zone else next(
            (c.time_zone for c in several if c.time_zone), None)
        return cls(picked=picked, sms_agreed=any(c.sms_agreed for c in several),
                   time_zone=zone, quiet_from=quiet.quiet_from if quiet else None,
                   quiet_until=quiet.quiet_until if quiet else None)


def choice_key(category: Category, channel: Channel) -> str:
    return f"{category.value}:{channel.value}"


def allowed(category: Category, channel: Channel, choices: Choices) -> bool:
    """Whether a notice of `category` may go on `channel` at all."""
    if channel is Channel.SMS and not choices.sms_agreed:
        return False
    if category in ALWAYS_ON:
        return True
    picked = choices.picked.get(choice_key(category, channel))
    if category in OPT_IN:
        return picked is True
    return picked is not False


def is_on(category: Category, channel: Channel, choices: Choices) -> bool:
    """What the settings show for a category on a channel (SMS consent aside)."""
    return allowed(category, channel, Choices(choices.picked, True))


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def not_before(moment: datetime, choices: Choices, *, urgent: bool) -> datetime | None:
    """When a notice may go: None for now, else the end of the shopper's quiet hours.
    Quiet hours may run over midnight (22:00-07:00); equal ends mean none."""
    start, end = choices.quiet_from, choices.quiet_until
    if urgent or start is None or end is None or start == end:
        return None
    local = moment.astimezone(_zone(choices.time_zone))
    minute = local.hour * 60 + local.minute
    quiet = start <= minute < end if start < end else (minute >= start or minute < end)
    if not quiet:
        return None
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    ends = datetime.combine(day, time(end // 60, end % 60), tzinfo=local.tzinfo)
    return ends.astimezone(moment.tzinfo)


def holder_for(vault: Vault, *, user_id: int | None = None, email: str | None = None,
               chat_key: str | None = None) -> str | None:
    """Whose choices apply: the account, else the guest's email, else the chat."""
    if user_id:
        return f"user:{user_id}"
    if email and email.strip():
        return f"email:{vault.digest(email.strip().lower())}"
    if chat_key:
        return f"chat:{vault.digest(chat_key)}"
    return None


def holders_of(holder: str | Sequence[str] | None) -> list[str]:
    """One holder, several or none, as a list (what `notify(holder=)` accepts)."""
    if holder is None:
        return []
    if isinstance(holder, str):
        return [holder] if holder else []
    return [one for one in holder if one]


async def row_of(*, session: AsyncSession, holder: str | None,
                 lock: bool = False) -> NotificationPreference | None:
    if not holder:
        return None
    query = select(NotificationPreference).where(NotificationPreference.holder == holder)
    if lock:  # read, change, write: a racing change waits instead of being lost
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def choices_of(*, session: AsyncSession,
                     holder: str | Sequence[str] | None) -> Choices:
    """The choices of one holder, or of several combined (`Choices.combined`)."""
    several = holders_of(holder)
    if len(several) == 1:
        return Choices.of(await row_of(session=session, holder=several[0]))
    return Choices.combined([Choices.of(await row_of(session=session, holder=one))
                             for one in several])


async def _row_for_change(session: AsyncSession, holder: str) -> NotificationPreference:
    row = await row_of(session=session, holder=holder, lock=True)
    if row is None:
        try:
            async with session.begin_nested():  # a racing first change loses here only
                row = NotificationPreference(holder=holder, choices={})
                session.add(row)
                await session.flush()
        except IntegrityError:
            row = await row_of(session=session, holder=holder, lock=True)
            if row is None:
                raise
    return row


async def set_choice(*, session: AsyncSession, holder: str, category: Category,
                     channel: Channel, on: bool, actor: Actor) -> bool:
    """Turn a category on or off on a channel; returns whether anything changed."""
    if category in ALWAYS_ON and not on:
        raise PreferenceError("Account and security messages can't be turned off: "
                              "they tell you when someone changes your account.")
    row = await _row_for_change(session, holder)
    key = choice_key(category, channel)
    before = is_on(category, channel, Choices.of(row))
    if before == on and key in (row.choices or {}):
        return False
    row.choices = {**(row.choices or {}), key: on}   # a new dict: JSON columns see it change
    await audit.record(session=session, actor=actor, action="notifications.preference",
                       subject_type="notification_preferences", subject_id=row.id,
                       data={"choice": key, "on": on})
    return before != on


async def set_quiet_hours(*, session: AsyncSession, holder: str, quiet_from: int | None,
                          quiet_until: int | None, time_zone: str | None,
                          actor: Actor) -> None:
    """Quiet hours as minutes after local midnight (both None: none), in an IANA zone."""
    if (quiet_from is None) != (quiet_until is None):
        raise PreferenceError("Quiet hours need both a start and an end.")
    for value in (quiet_from, quiet_until):
        if value is not None and not 0 <= value < DAY_MINUTES:
            raise PreferenceError("Quiet hours must be times of day, from 00:00 to 23:59.")
    if time_zone is not None:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise PreferenceError("That time zone isn't one I know, "
                                  "for example Europe/Berlin.") from None
    row = await row_of(session=session, holder=holder, lock=True)
    was = (row.quiet_from, row.quiet_until, row.time_zone) if row else (None, None, None)
    zone = time_zone if time_zone is not None else was[2]
    if was == (quiet_from, quiet_until, zone):
        return   # nothing changed: nothing written, nothing audited
    row = row or await _row_for_change(session, holder)
    row.quiet_from, row.quiet_until = quiet_from, quiet_until
    row.time_zone = zone
    await audit.record(session=session, actor=actor, action="notifications.quiet_hours",
                       subject_type="notification_preferences", subject_id=row.id,
                       data={"from": quiet_from, "until": quiet_until, "zone": row.time_zone})


async def agree_to_sms(*, session: AsyncSession, holder: str, phone_e164: str | None,
                       vault: Vault, actor: Actor, at: datetime) -> None:
    """Record the shopper's yes to SMS at a number (E.164, checked by the caller), or
    withdraw it (None)."""
    row = await _row_for_change(session, holder)
    row.sms_phone_sealed = vault.seal({"phone": phone_e164}) if phone_e164 else None
    row.sms_agreed_at = at if phone_e164 else None
    await audit.record(session=session, actor=actor, action="notifications.sms_consent",
                       subject_type="notification_preferences", subject_id=row.id,
                       data={"agreed": phone_e164 is not None})


async def withdraw_number(*, session: AsyncSession, holder: str | Sequence[str] | None,
                          phone_e164: str, vault: Vault, actor: Actor, at: datetime) -> int:
    """Withdraw the SMS consent of each of the holders who agreed to `phone_e164` (the
    number told the SMS provider STOP); a holder who agreed to another number keeps it.
    Returns how many were withdrawn (each audited as `agree_to_sms` does)."""
    withdrawn = 0
    for one in holders_of(holder):
        if sms_number(await row_of(session=session, holder=one), vault) == phone_e164:
            await agree_to_sms(session=session, holder=one, phone_e164=None, vault=vault,
                               actor=actor, at=at)
            withdrawn += 1
    return withdrawn


async def agreed_numbers(*, session: AsyncSession, holder: str | Sequence[str] | None,
                         vault: Vault) -> list[str]:
    """The numbers the holders agreed to get SMS at, in the holders' order."""
    found = []
    for one in holders_of(holder):
        number = sms_number(await row_of(session=session, holder=one), vault)
        if number:
            found.append(number)
    return found


def sms_number(row: NotificationPreference | None, vault: Vault) -> str | None:
    """The number the holder agreed to get SMS at, if they did."""
    if row is None or row.sms_phone_sealed is None or row.sms_agreed_at is None:
        return None
    try:
        return str(vault.open(row.sms_phone_sealed).get("phone") or "") or None
    except ValueError:
        return None
