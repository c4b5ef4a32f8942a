"""Agreeing to order updates by SMS, and the time zone of quiet hours, in the chat.

A number is texted only after the shopper agreed to that number and proved it is theirs:
they pick the phone of their latest order (shown masked) or type one, it is checked as
E.164 (core.notifications.phones), they say yes to it, and a six-digit code is texted to it
(core.notifications.sms_codes, sent by bot.notice_sms.text_code once the turn commits);
only the right code typed back records the consent. The number waits sealed in the chat
state between those steps. Withdrawing is one button. A shop without Twilio set up offers
no SMS at all.
"""

from __future__ import annotations

from bot import notice_sms
from bot.dialogs.notification_words import zone_in
from bot.messages import Button, Reply
from bot.router import Router
from bot.turn import Turn
from core.checkout.addresses import Address
from core.clock import now
from core.errors import DomainError
from core.i18n import _
from core.notifications import holders, preferences, sms_codes
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


def offered(turn: Turn) -> bool:
    """Whether this shop sends text messages at all (TWILIO_* set)."""
    return turn.shop.settings.sms_enabled


@router.action("nsms")
async def ask(turn: Turn) -> list[Reply]:
    if not offered(turn):
        turn.state.finish()
        return [Reply(_("Sorry, this shop doesn't send text messages. Order updates come "
                        "here in the chat and by email."),
                      buttons=((Button(_("Notification settings"), "nset"),
                                Button(_("Menu"), "menu")),))]
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


def _pending(turn: Turn) -> str:
    """The number asked about (sealed in the chat state), or ""."""
    sealed = turn.state.slots.get("phone") if turn.state.flow == FLOW else None
    try:
        return str(turn.shop.vault.open(sealed).get("phone") or "") if sealed else ""
    except ValueError:
        return ""


@router.action("nsmsok")
async def agree(turn: Turn) -> list[Reply]:
    """The explicit yes to the number asked about just before: a code is texted to it."""
    number = _pending(turn)
    if not number or not offered(turn):
        return await ask(turn)
    try:
        issued = await sms_codes.issue(
            session=turn.session, secret_key=turn.shop.settings.secret_key,
            vault=turn.shop.vault, holder=await _holder(turn), phone_e164=number,
            actor=turn.actor)
    except DomainError as refused:
        turn.state.finish()
        return await _settings(turn, refused.message)
    text = _("Your code for {shop} is {code}. Type it in the chat to get your order "
             "updates by text message. It works for {minutes} minutes.",
             shop=turn.shop.settings.shop_name, code=issued.code, minutes=issued.minutes)
    settings = turn.shop.settings

    async def send() -> None:
        await notice_sms.text_code(settings, issued.phone, text)

    turn.after_commit.append(send)
    turn.state.start(FLOW, "code")
    turn.state.slots["phone"] = turn.shop.vault.seal({"phone": number})
    return [Reply(_("I've texted a 6-digit code to {number}. Please type it here; it works "
                    "for {minutes} minutes.", number=masked(number), minutes=issued.minutes),
                  buttons=((Button(_("Send a new code"), "nsmsok"),
                            Button(_("Cancel"), "nset")),))]


async def check_code(turn: Turn, code: str) -> list[Reply]:
    """The code typed back: only the right one records the consent (audited)."""
    result = await sms_codes.confirm(
        session=turn.session, secret_key=turn.shop.settings.secret_key,
        vault=turn.shop.vault, holder=await _holder(turn), code=code, actor=turn.actor,
        at=now())
    if result.outcome is sms_codes.Outcome.WRONG:
        text = (_("That code isn't right (1 try left). Please check the text message and "
                  "type the 6 digits.") if result.tries_left == 1 else
                _("That code isn't right ({tries} tries left). Please check the text message "
                  "and type the 6 digits.", tries=result.tries_left))
        return [Reply(text, buttons=((Button(_("Send a new code"), "nsmsok"),
                                      Button(_("Cancel"), "nset")),))]
    if result.outcome is sms_codes.Outcome.SPENT:
        turn.state.step = "confirm"  # the number is still asked about: a new code is a tap
        return [Reply(_("That code has expired or has been used up, so nothing was changed. "
                        "Shall I text you a new one?"),
                      buttons=((Button(_("Send a new code"), "nsmsok"),
                                Button(_("Cancel"), "nset")),))]
    turn.state.finish()
    return await _settings(turn, _("Done: I'll text your order updates to {number}.",
                                   number=masked(result.phone or "")))


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
    if turn.state.step in ("confirm", "number", "code") and said in NO:
        turn.state.finish()
        return await _settings(turn, _("Okay, no text messages."))
    if turn.state.step == "code" and any(ch.isdigit() for ch in text) \
            and sum(ch.isalpha() for ch in text) <= 3:
        return await check_code(turn, text[:40])
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
