"""Notification settings in the chat: "/settings", "notification settings", or a typed
change ("turn off email notifications", "turn email back on") made at once with an undo.

Whose settings: core.notifications.holders decides (the linked account, else the email of
the chat's latest order, else the chat), the same rule the order news reads. Buttons name
the state they set, not a toggle, so a stale button pressed twice does no harm. SMS and
time zones are the dialog in bot/dialogs/sms_consent.py; SMS is offered only when the shop
has Twilio set up.
"""

from __future__ import annotations

from typing import TypeVar

from bot import actions
from bot.dialogs import notification_words as words
from bot.dialogs import sms_consent
from bot.messages import Button, Reply
from bot.router import Router
from bot.turn import Turn
from core.i18n import _
from core.notifications import holders, preferences, push
from core.notifications import settings as shown
from core.notifications.events import Channel
from core.notifications.kinds import Category
from core.notifications.phones import masked
from core.notifications.preferences import Choices

router = Router()
T = TypeVar("T")
# a button's channel mask, by place
CHANNELS = (Channel.CHAT, Channel.EMAIL, Channel.SMS, Channel.PUSH)
PRESETS = tuple(shown.QUIET_PRESETS)                    # a button's preset, by place


def _mask(items: tuple[T, ...], table: tuple[T, ...]) -> int:
    return sum(1 << table.index(item) for item in set(items))


def _unmask(mask: int, table: tuple[T, ...]) -> tuple[T, ...]:
    return tuple(item for place, item in enumerate(table) if mask & (1 << place))


async def holder_of(turn: Turn) -> str:
    return await holders.of_chat(session=turn.session, vault=turn.shop.vault,
                                 user_id=turn.user_id, chat_key=turn.msg.chat.session_key)


async def _push(turn: Turn) -> bool:
    """Whether this chat has a browser subscribed to push (its switch is shown then)."""
    return bool(await push.recipients(session=turn.session, chat_key=turn.msg.chat.session_key))


def _summary(choices: Choices, channels: tuple[Channel, ...]) -> str:
    lines = [_("Your notifications:")]
    for category in shown.SWITCHABLE:
        states = ", ".join(
            (_("{channel} on", channel=shown.channel_label(channel))
             if preferences.is_on(category, channel, choices)
             else _("{channel} off", channel=shown.channel_label(channel)))
            for channel in channels)
        lines.append(_("{category}: {states}.", category=shown.category_label(category),
                       states=states))
    lines.append(_("{category}: always on.", category=shown.category_label(Category.ACCOUNT)))
    lines.append(shown.quiet_label(choices))
    lines.append(_("To set your time zone, type it, for example “time zone Europe/Berlin”."))
    return "\n".join(lines)


def _switch(category: Category, channel: Channel, choices: Choices) -> Button:
    on = preferences.is_on(category, channel, choices)
    label = (_("{category} · {channel}: on (turn off)", category=shown.category_label(category),
               channel=shown.channel_label(channel)) if on else
             _("{category} · {channel}: off (turn on)", category=shown.category_label(category),
               channel=shown.channel_label(channel)))
    return Button(label, actions.encode("npref", _mask((category,), shown.SWITCHABLE),
                                        _mask((channel,), CHANNELS), 0 if on else 1))


async def settings_reply(turn: Turn, opening: str | None = None) -> list[Reply]:
    holder = await holder_of(turn)
    row = await preferences.row_of(session=turn.session, holder=holder)
    choices = Choices.of(row)
    channels = shown.channels_for(choices, push=await _push(turn))
    rows: list[tuple[Button, ...]] = [
        tuple(_switch(category, channel, choices) for channel in channels)
        for category in shown.SWITCHABLE]
    current = shown.preset_of(choices)
    rows.append(tuple(
        Button(_("No quiet hours") if start is None or end is None else
               _("Quiet {start}–{end}", start=shown.clock(start), end=shown.clock(end)),
               actions.encode("nquiet", place))
        for place, (name, (start, end)) in enumerate(shown.QUIET_PRESETS.items())
        if name != current))
    number = preferences.sms_number(row, turn.shop.vault)
    menu = Button(_("Menu"), "menu")
    if number:  # a consent given is always withdrawable, SMS set up or not
        rows.append((Button(_("Stop text messages to {number}", number=masked(number)),
                            "nsmsoff"), menu))
    elif sms_consent.offered(turn):  # never offered by a shop that sends no SMS
        rows.append((Button(_("Text me order updates"), "nsms"), menu))
    else:
        rows.append((menu,))
    sms_consent.listen(turn)  # a time zone or a number typed next is for these settings
    text = _summary(choices, channels)
    return [Reply(f"{opening}\n\n{text}" if opening else text, buttons=tuple(rows))]


@router.action("nset")
async def show(turn: Turn) -> list[Reply]:
    return await settings_reply(turn)


async def _change(turn: Turn, categories: tuple[Category, ...], channels: tuple[Channel, ...],
                  on: bool) -> list[Reply]:
    holder = await holder_of(turn)
    changed = await shown.apply(
        session=turn.session, holder=holder, actor=turn.actor,
        wanted={(category, channel): on for category in categories for channel in channels})
    if not changed:
        return await settings_reply(turn, _("Nothing to change: that was set so already."))
    names = ", ".join(dict.fromkeys(shown.category_label(c) for c, _ch, _on in changed))
    ways = ", ".join(dict.fromkeys(shown.channel_label(ch) for _c, ch, _on in changed))
    done = (_("Done: {names} will come by {ways} again.", names=names, ways=ways) if on else
            _("Done: {names} won't come by {ways} any more. Account and security messages "
              "still do.", names=names, ways=ways))
    undo = actions.encode("npref", _mask(tuple(c for c, _ch, _on in changed), shown.SWITCHABLE),
                          _mask(tuple(ch for _c, ch, _on in changed), CHANNELS), 0 if on else 1)
    return [Reply(done, buttons=((Button(_("Undo"), undo),
                                  Button(_("Notification settings"), "nset")),))]


@router.action("npref")
async def switch(turn: Turn) -> list[Reply]:
    """A settings button or an undo: these categories on these channels, on or off."""
    assert turn.action is not None
    category_mask, channel_mask, on = turn.action.args
    categories = _unmask(category_mask, shown.SWITCHABLE)
    channels = _unmask(channel_mask, CHANNELS)
    if not categories or not channels or on > 1:
        return await settings_reply(turn)
    holder = await holder_of(turn)
    await shown.apply(session=turn.session, holder=holder, actor=turn.actor,
                      wanted={(c, ch): bool(on) for c in categories for ch in channels})
    return await settings_reply(turn, _("Saved."))


@router.action("nquiet")
async def quiet(turn: Turn) -> list[Reply]:
    assert turn.action is not None
    (place,) = turn.action.args
    if place >= len(PRESETS):
        return await settings_reply(turn)
    start, end = shown.QUIET_PRESETS[PRESETS[place]]
    holder = await holder_of(turn)
    await preferences.set_quiet_hours(session=turn.session, holder=holder, quiet_from=start,
                                      quiet_until=end, time_zone=None, actor=turn.actor)
    return await settings_reply(turn, _("Saved."))


@router.intent("notification_preferences")
async def typed(turn: Turn) -> list[Reply]:
    """A typed change made at once (with an undo); else the settings with their buttons."""
    text = turn.msg.text
    if (zone := words.zone_in(text)) is not None:
        return await sms_consent.set_zone(turn, zone)
    if words.wants_sms(text):
        return await sms_consent.ask(turn)
    change = words.change_in(text)
    if change is None:
        return await settings_reply(turn)
    channels = change.channels
    if not channels:
        holder = await holder_of(turn)
        channels = shown.channels_for(await preferences.choices_of(session=turn.session,
                                                                   holder=holder),
                                      push=await _push(turn))
    return await _change(turn, change.categories, channels, change.on)
