"""The account menu and linking a chat to an account by email code (`/link`).

Linking is a two-step dialog: the email address, then the six-digit code mailed to
it. Typed text that is neither lets the dialog go, so a shopper who changes their
mind just carries on shopping.
"""

from __future__ import annotations

import re

from bot import replies
from bot.messages import Button, Reply
from bot.router import Router
from bot.turn import Turn
from core.accounts import identities, link_codes
from core.accounts import service as accounts
from core.accounts.link_codes import Outcome
from core.accounts.models import User
from core.errors import Conflict, Forbidden, InvalidInput
from core.i18n import _
from core.notifications.mail import Email

router = Router()
FLOW = "link"
NEW_EMAIL = "newmail"  # the flow (and button) that moves an account to a new address
CODE = re.compile(r"^\D{0,20}(\d[\d\s-]{4,9}\d)\D{0,20}$")
CANCEL_WORDS = {"cancel", "stop", "quit", "never mind", "nevermind", "no"}
CANCEL_ROW = (Button("Cancel", "menu"),)
PLATFORMS = {"telegram": "Telegram", "slack": "Slack", "web": "web", "terminal": "terminal"}


@router.action("account")
@router.intent("manage_account")
async def account(turn: Turn) -> list[Reply]:
    user = await turn.session.get(User, turn.user_id) if turn.user_id else None
    if user is None:
        return [Reply("This chat isn't linked to an account yet. Link it with your email "
                      "address to keep one cart and one order history across Telegram, "
                      "Slack and the web chat.",
                      buttons=((Button("Link my account", "link"), Button("Menu", "menu")),))]
    return [Reply(f"This chat is linked to the account {user.email}.",
                  buttons=((Button("My orders", "orders"), Button("Unlink this chat", "unlink")),
                           (Button(_("Change my email"), NEW_EMAIL),
                            Button("Menu", "menu"))))]


@router.action("link")
async def start(turn: Turn) -> list[Reply]:
    turn.state.start(FLOW, "email")
    return [Reply("What's your email address? I'll send a 6-digit code there to make sure "
                  "it's you.", buttons=(CANCEL_ROW,))]


@router.action("unlink")
async def unlink(turn: Turn) -> list[Reply]:
    if turn.user_id is None:
        return [replies.menu("This chat isn't linked to an account.")]
    await identities.unlink(session=turn.session, identity=await turn.identity(),
                            actor=turn.actor)
    return [replies.menu("Done: this chat is no longer linked to your account. Your account, "
                         "its cart and its orders are untouched.")]


@router.action(NEW_EMAIL)
async def start_change(turn: Turn) -> list[Reply]:
    if turn.user_id is None:
        return await account(turn)
    turn.state.start(NEW_EMAIL, "email")
    return [Reply(_("What's your new email address? I'll send a 6-digit code there to make "
                    "sure it's yours."), buttons=(CANCEL_ROW,))]


@router.flow(NEW_EMAIL)
async def changing(turn: Turn) -> list[Reply] | None:
    """Like linking, but the code proves a new address for the account this chat is on;
    the old address hears of the change (core.accounts.notices)."""
    text = turn.msg.text.strip()
    if text.lower().strip(".! ") in CANCEL_WORDS or turn.user_id is None:
        turn.state.finish()
        return [replies.menu(_("Okay, your email address stays as it is."))]
    if "@" in text:
        return await _send_code(turn, text, change=True)
    if turn.state.step == "code" and (match := CODE.match(text)):
        return await _check_new_address(turn, match.group(1))
    turn.state.finish()
    return None


async def _check_new_address(turn: Turn, code: str) -> list[Reply]:
    proved, address = await link_codes.confirm_address(
        session=turn.session, secret_key=turn.shop.settings.secret_key,
        identity=await turn.identity(), code=code)
    if proved.outcome is Outcome.WRONG:
        return [Reply(_("That code isn't right ({tries} left). Please check the email and "
                        "type the 6 digits.", tries=proved.tries_left), buttons=(CANCEL_ROW,))]
    turn.state.finish()
    if address is None:
        return [Reply(_("That code has expired or has been used up. I can send you a new one."),
                      buttons=((Button(_("Send a new code"), NEW_EMAIL),
                                Button("Menu", "menu")),))]
    user = await turn.session.get(User, turn.user_id)
    assert user is not None
    try:
        await accounts.change_email(session=turn.session, user=user, new_email=address,
                                    actor=turn.actor)
    except (Conflict, Forbidden) as problem:
        return [replies.menu(problem.message)]
    return [replies.menu(_("Done: your account's email address is now {address}. I've told "
                           "your old address too.", address=user.email))]


@router.flow(FLOW)
async def linking(turn: Turn) -> list[Reply] | None:
    text = turn.msg.text.strip()
    if text.lower().strip(".! ") in CANCEL_WORDS:
        turn.state.finish()
        return [replies.menu("Okay, I won't link this chat.")]
    if "@" in text:
        return await _send_code(turn, text)
    if turn.state.step == "code" and (match := CODE.match(text)):
        return await _check_code(turn, match.group(1))
    turn.state.finish()  # something else entirely: let the message be understood normally
    return None


async def _send_code(turn: Turn, text: str, change: bool = False) -> list[Reply]:
    address = next((word.strip("<>.,;:()") for word in text.split() if "@" in word), text)
    try:
        issued = await link_codes.issue(
            session=turn.session, secret_key=turn.shop.settings.secret_key,
            identity=await turn.identity(), email=address)
    except InvalidInput as problem:  # raised before anything is written
        return [Reply(f"{problem.message} Please type it again.", buttons=(CANCEL_ROW,))]
    turn.state.step = "code"
    platform = PLATFORMS.get(turn.msg.chat.platform, turn.msg.chat.platform)
    if change:
        mail = Email(to=issued.email, subject=_("Your code to change your email address"),
                     body=_("Your code is {code}. Type it in the {platform} chat to make this "
                            "the email address of your account. It works for {minutes} "
                            "minutes.\nIf you didn't ask for this, you can ignore this email.",
                            code=issued.code, platform=platform, minutes=issued.minutes))
    else:
        mail = Email(to=issued.email, subject="Your code to link your chat",
                     body=f"Your code is {issued.code}. Type it in the {platform} chat to link "
                          f"it to your account. It works for {issued.minutes} minutes.\n"
                          "If you didn't ask for this, you can ignore this email.")
    turn.after_commit.append(lambda: turn.shop.mailer.send(mail))
    return [Reply(f"I've sent a 6-digit code to {issued.email}. Type it here; it works for "
                  f"{issued.minutes} minutes. (Wrong address? Just type the right one.)",
                  buttons=((Button("Send a new code", NEW_EMAIL if change else "link"),
                            Button("Cancel", "menu")),))]


async def _check_code(turn: Turn, code: str) -> list[Reply]:
    result = await link_codes.confirm(
        session=turn.session, secret_key=turn.shop.settings.secret_key,
        identity=await turn.identity(), code=code, chat_session_key=turn.msg.chat.session_key,
        currency=turn.currency, actor=turn.actor)
    if result.outcome is Outcome.WRONG:
        tries = "1 try" if result.tries_left == 1 else f"{result.tries_left} tries"
        return [Reply(f"That code isn't right ({tries} left). Please check the email and "
                      "type the 6 digits.", buttons=(CANCEL_ROW,))]
    turn.state.finish()
    if result.outcome is Outcome.SPENT:
        return [Reply("That code has expired or has been used up. I can send you a new one.",
                      buttons=((Button("Send a new code", "link"), Button("Menu", "menu")),))]
    assert result.user is not None and result.cart is not None
    items = result.cart.item_count
    cart = "Your cart is empty." if not items else (
        f"Your cart has {items} item{'s' if items != 1 else ''}, the same wherever you chat "
        "with us.")
    made = " I've created an account for you." if result.created else ""
    return [Reply(f"Done! This chat is now linked to {result.user.email}.{made} {cart}",
                  buttons=((Button("My cart", "cart"), Button("My orders", "orders")),
                           (Button("Menu", "menu"),)))]
