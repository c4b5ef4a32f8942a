"""One person, three chats: Telegram, Slack and the web chat linked to one account by an
emailed code share one cart (the code is read from the mail log until mail is sent).
"""

from __future__ import annotations

import logging
import re

import pytest

from core.accounts import service as accounts
from tests.e2e.conftest import Platforms
from tests.e2e.platforms import slack_buttons, slack_text
from tests.e2e.webchat import Shopper


def mailed_code(caplog: pytest.LogCaptureFixture, address: str) -> str:
    for record in reversed(caplog.records):
        if record.name == "chatcart.mail" and address in record.getMessage():
            found = re.search(r"Your code is (\d{6})", record.getMessage())
            if found:
                return found.group(1)
    raise AssertionError(f"no code mailed to {address}")


async def test_telegram_slack_and_web_chat_share_one_cart_once_linked(
        platforms: Platforms, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="chatcart.mail")
    ann_tg, ann_slack = platforms.telegram_user(), platforms.slack_user()
    ann_web = Shopper(platforms.http)

    await ann_tg.say("add a blue mug")            # guest carts, one per chat
    await ann_slack.say("add 2 red mugs")
    await ann_web.say("add a blue mug")

    sent = await ann_tg.say("/link")
    assert "email address" in sent[0].text
    sent = await ann_tg.say("it's ann@example.com")
    assert "sent a 6-digit code to ann@example.com" in sent[0].text
    code = mailed_code(caplog, "ann@example.com")
    wrong = "000000" if code != "000000" else "111111"
    sent = await ann_tg.say(wrong)
    assert "isn't right (4 tries left)" in sent[0].text
    sent = await ann_tg.say(code)
    assert "linked to ann@example.com" in sent[0].text
    assert "created an account" in sent[0].text and "1 item" in sent[0].text

    await ann_slack.say("hi")
    await ann_slack.press("My account")
    sent = await ann_slack.press("Link my account")
    assert "email address" in slack_text(sent[0])
    await ann_slack.say("<mailto:Ann@Example.com|Ann@Example.com>")  # as Slack sends it
    sent = await ann_slack.say(mailed_code(caplog, "ann@example.com"))
    assert "linked to ann@example.com" in slack_text(sent[0])
    assert "created" not in slack_text(sent[0]) and "3 items" in slack_text(sent[0])

    await ann_web.say("/link")
    await ann_web.say("ann@example.com")
    await ann_web.say(mailed_code(caplog, "ann@example.com"))
    assert "linked to ann@example.com" in ann_web.text

    sent = await ann_tg.say("/cart")
    cart = sent[0].text
    assert "2 × Blue mug" in cart and "2 × Red mug" in cart and "(4 items)" in cart
    sent = await ann_slack.say("what's in my cart")
    assert "2 × Blue mug" in slack_text(sent[0]) and "(4 items)" in slack_text(sent[0])
    plus = await ann_slack.press("+")     # a change in Slack ...
    assert "3 × Blue mug" in slack_text(plus[0])
    await ann_web.say("show my cart")     # ... is what the web chat shows
    assert "3 × Blue mug" in ann_web.text and "(5 items)" in ann_web.text

    async with platforms.shop.transaction() as session:
        user = await accounts.get_by_email(session=session, email="ann@example.com")
        assert user is not None and user.is_verified


async def test_linking_is_left_by_typing_something_else_and_unlinking_keeps_the_account(
        platforms: Platforms, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="chatcart.mail")
    ann = platforms.telegram_user()
    await ann.say("/link")
    sent = await ann.say("not an address")
    assert "email address" not in sent[0].text  # understood as an ordinary message
    await ann.say("/link")
    sent = await ann.say("ann@@example")
    assert "does not look right" in sent[0].text and "type it again" in sent[0].text
    await ann.say("ann@example.com")
    await ann.say(mailed_code(caplog, "ann@example.com"))
    await ann.say("add a blue mug")
    sent = await ann.say("/account")
    assert "linked to the account ann@example.com" in sent[0].text
    sent = await ann.press("Unlink this chat")
    assert "no longer linked" in sent[0].text
    sent = await ann.say("/cart")
    assert "empty" in sent[0].text  # the account's cart stays with the account


async def test_a_code_is_spent_after_five_wrong_tries(platforms: Platforms,
                                                      caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="chatcart.mail")
    ann = platforms.slack_user()
    await ann.say("link")  # plain words work too (manage_account)
    sent = await ann.say("/link")
    await ann.say("ann@example.com")
    code = mailed_code(caplog, "ann@example.com")
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        sent = await ann.say(wrong)
        assert f"({left} tr" in slack_text(sent[0])
    sent = await ann.say(wrong)
    assert "expired or has been used up" in slack_text(sent[0])
    assert "Send a new code" in slack_buttons(sent[0])
    sent = await ann.say(code)  # the right code, too late
    assert "linked" not in slack_text(sent[0])
