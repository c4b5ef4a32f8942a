"""The notification settings as a shopper sees them, the same in the chat and on the link
page: which categories they can switch on which channels, in what words, the quiet-hour
presets, and applying a whole set of switches at once (each change audited by
core.notifications.preferences).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.actor import Actor
from core.i18n import _
from core.notifications import preferences
from core.notifications.events import Channel
from core.notifications.kinds import Category
from core.notifications.preferences import Choices

# In the order they are shown; account & security is shown apart, as always on.
SWITCHABLE = (Category.ORDERS, Category.MARKETING, Category.BACK_IN_STOCK,
              Category.CART_REMINDERS)
# Quiet hours offered (minutes after local midnight); "off" clears them.
QUIET_PRESETS: dict[str, tuple[int | None, int | None]] = {
    "22-07": (22 * 60, 7 * 60), "21-08": (21 * 60, 8 * 60), "23-09": (23 * 60, 9 * 60),
    "off": (None, None)}


def category_label(category: Category, locale: str | None = None) -> str:
    return {
        Category.ORDERS: _("Order updates", locale=locale),
        Category.ACCOUNT: _("Account and security", locale=locale),
        Category.MARKETING: _("News and offers", locale=locale),
        Category.BACK_IN_STOCK: _("Back in stock", locale=locale),
        Category.CART_REMINDERS: _("Cart reminders", locale=locale),
    }[category]


def channel_label(channel: Channel, locale: str | None = None) -> str:
    return {Channel.CHAT: _("Chat", locale=locale), Channel.EMAIL: _("Email", locale=locale),
            Channel.SMS: _("Text message", locale=locale),
            Channel.PUSH: _("Browser", locale=locale)}[channel]


def channels_for(choices: Choices, push: bool = False) -> tuple[Channel, ...]:
    """The channels a holder can switch: SMS only once they agreed to it, this browser only
    in a web chat that subscribed to push."""
    return ((Channel.CHAT, Channel.EMAIL) + ((Channel.SMS,) if choices.sms_agreed else ())
            + ((Channel.PUSH,) if push else ()))


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def preset_of(choices: Choices) -> str | None:
    """The preset the holder's quiet hours are, if one."""
    for name, (start, end) in QUIET_PRESETS.items():
        if (choices.quiet_from, choices.quiet_until) == (start, end):
            return name
    return None


def quiet_label(choices: Choices, locale: str | None = None) -> str:
    zone = choices.time_zone or "UTC"
    if choices.quiet_from is None or choices.quiet_until is None:
        return _("Quiet hours: off (time zone {zone}).", zone=zone, locale=locale)
    return _("Quiet hours: {start} to {end} ({zone}). Only urgent news comes then.",
             start=clock(choices.quiet_from), end=clock(choices.quiet_until), zone=zone,
             locale=locale)


async def apply(*, session: AsyncSession, holder: str, wanted: dict[tuple[Category, Channel],
                bool], actor: Actor) -> list[tuple[Category, Channel, bool]]:
    """Set each (category, channel) as wanted; only real changes are made and audited (a
    page saved whole does not record every box it showed). Returns what changed."""
    choices = await preferences.choices_of(session=session, holder=holder)
    changed = []
    for (category, channel), on in wanted.items():
        if category not in SWITCHABLE or preferences.is_on(category, channel, choices) == on:
            continue
        await preferences.set_choice(session=session, holder=holder, category=category,
                                     channel=channel, on=on, actor=actor)
        changed.append((category, channel, on))
    return changed
