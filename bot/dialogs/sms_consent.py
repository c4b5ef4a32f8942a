"""Agreeing to order updates by SMS, and the time zone of quiet hours, in the chat.

A number is texted only after the shopper agreed to that number: they pick the phone of
their latest order (shown masked) or type one, it is checked as E.164
(core.notifications.phones), and then they say yes to it. The number waits sealed in the
chat state between those steps. Withdrawing is one button.
"""

from __future__ import annotations

from bot.dialogs.notification_words import zone_in
from bot.messages import Button, Reply
from bot.router import Router
from bot.turn import Turn
from core.checkout.addresses import Address
from core.clock import now
from core.i18n import _
from core.notifications import holders, preferences
from core.notifications.phones import e164, masked
from core.notifications.preferences import PreferenceError

router = Router()
FLOW = "notifications"
YES = {"yes", "y", "yes please", "ok", "okay", "sure", "i agree", "agree", "yep"}
NO = {"no", "n", "cancel", "no thanks", "stop", "never mind"}


def listen(turn: Turn) -> None:
    """After the settings are shown, a typed time zone is for them (unless a dialog such as
    the checkout is under way)."""
    if turn.state.flow in (None, FLOW):
        turn.state.start(FLOW, "settings")


async def _settings(turn: Turn, opening: str) -> list[Reply]:
    from bot.handlers.notifications import settings_reply  # the settings import this dialog

    return await settings_reply(turn, opening)


async def _holder(turn: Turn) -> str:
    return await holders.of_chat(session=turn.session, vault=turn.shop.vault,
                                 user_id=turn.user_id, chat_key=turn.msg.chat.session_key)


async def _order_phone(turn: Turn) -> tuple[str | None, str | None]:
    """The phone of the shopper's latest order (E.164) and its country, if any."""
    order = await holders.latest_shipped_to(session=turn.session, user_id=turn.user_id,
                                            chat_key=turn.msg.chat.session_key)
    if order is None or order.shipping_sealed is None:
        return None, None
    try:
        address = Address.from_dict(turn.shop.vault.open(order.shipping_sealed))
    except ValueError:
        return None, None
    return e164(address.phone, address.country), address.country


def _confirm(turn: Turn, number: str) -> list[Reply]:
    turn.state.start(FLOW, "confirm")
    turn.state.slots["phone"] = turn.shop.vault.seal({"phone": number})
    return [Reply(_("Shall I text your order updates to {number}? Messages may cost what your "
                    "provider charges. You can stop them any time in /settings.",
                    number=masked(number)),
                  buttons=((Button(_("Yes, text me"), "nsmsok"), Button(_("No"), "nset")),))]


@router.action("nsms")
async def ask(turn: Turn) -> list[Reply]:
    row = await preferences.row_of(session=turn.session, holder=await _holder(turn))
    if preferences.sms_number(row, turn.shop.vault):
        return await _settings(turn, _("You already get order updates by text message."))
    turn.state.start(FLOW, "number")
    number, _country = await _order_phone(turn)
    text = _("Which number should I text? Type it with its country code, for example "
             "+44 7700 900123.")
    if number:
        text = _("Which number should I text? I can use the one from your latest order, "
                 "{number}, or type another with its country code.", number=masked(number))
    return [Reply(text, buttons=(_choices(number),))]


def _choices(offered: str | None) -> tuple[Button, ...]:
    """The order's number to pick (masked), if there is one, and a way out."""
    cancel = Button(_("Cancel"), "nset")
    return (Button(_("Use {number}", number=masked(offered)), "nsmsuse"), cancel) \
        if offered else (cancel,)


@router.action("nsmsuse")
async def use_order_phone(turn: Turn) -> list[Reply]:
    number, _country = await _order_phone(turn)
    if number is None:
        return await ask(turn)
    return _confirm(turn, number)


@router.action("nsmsok")
async def agree(turn: Turn) -> list[Reply]:
    """The explicit yes to the number asked about just before."""
    sealed = turn.state.slots.get("phone") if turn.state.flow == FLOW else None
    try:
        number = str(turn.shop.vault.open(sealed).get("phone") or "") if sealed else ""
    except ValueError:
        number = ""
    if not number:
        return await ask(turn)
    await preferences.agree_to_sms(session=turn.session, holder=await _holder(turn),
                                   phone_e164=number, vault=turn.shop.vault,
                                   actor=turn.actor, at=now())
    turn.state.finish()
    return await _settings(turn, _("Done: I'll text your order updates to {number}.",
                                   number=masked(number)))


@router.action("nsmsoff")
async def withdraw(turn: Turn) -> list[Reply]:
    await preferences.agree_to_sms(session=turn.session, holder=await _holder(turn),
                                   phone_e164=None, vault=turn.shop.vault, actor=turn.actor,
                                   at=now())
    return await _settings(turn, _("Done: no more text messages. Your number is forgotten."))


async def set_zone(turn: Turn, zone: str) -> list[Reply]:
    holder = await _holder(turn)
    choices = await preferences.choices_of(session=turn.session, holder=holder)
    try:
        await preferences.set_quiet_hours(
            session=turn.session, holder=holder, quiet_from=choices.quiet_from,
            quiet_until=choices.quiet_until, time_zone=zone, actor=turn.actor)
    except PreferenceError:
        return await _settings(turn, _("That time zone isn't one I know, for example "
                                       "Europe/Berlin."))
    return await _settings(turn, _("Saved: your time zone is {zone}.", zone=zone))


@router.flow(FLOW)
async def typed(turn: Turn) -> list[Reply] | None:
    """A number or a yes while agreeing to SMS; a time zone after the settings; anything
    else lets the dialog go and is understood as usual."""
    text = turn.msg.text.strip()
    said = text.lower().strip(".! ")
    if turn.state.step == "confirm" and said in YES:
        return await agree(turn)
    if turn.state.step in ("confirm", "number") and said in NO:
        turn.state.finish()
        return await _settings(turn, _("Okay, no text messages."))
    if turn.state.step == "number" and any(ch.isdigit() for ch in text):
        offered, country = await _order_phone(turn)
        number = e164(text, country)
        if number is None and sum(ch.isalpha() for ch in text) > 3:
            turn.state.finish()  # words, not a number: something else entirely
            return None
        if number is None:
            return [Reply(_("That doesn't look like a phone number I can text. Please type "
                            "it with its country code, for example +44 7700 900123."),
                          buttons=(_choices(offered),))]
        return _confirm(turn, number)
    if (zone := zone_in(text)) is not None:
        turn.state.finish()
        return await set_zone(turn, zone)
    turn.state.finish()
    return None
