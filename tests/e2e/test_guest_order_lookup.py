"""A guest follows their order from any chat by its number plus the email they gave at
checkout (as the receipt says): the status shows in Telegram for an order placed in the
web chat; a wrong address reads exactly like a missing order, guesses are slowed down, and
the pair lets one look, never cancel."""

from __future__ import annotations

from tests.e2e.checkout_steps import to_review
from tests.e2e.conftest import Platforms
from tests.e2e.webchat import Shopper


async def test_a_guest_follows_a_web_order_from_telegram_by_number_and_email(
        platforms: Platforms):
    ann = Shopper(platforms.http)
    await to_review(ann, email="Ann@Example.com")
    await ann.press("Pay €29.90")
    number = ann.text.split("Order ")[1].split(" ")[0]
    paid = await platforms.http.post(ann.payment_path(), data={"outcome": "pay"})
    assert paid.status_code == 200

    tg = platforms.telegram_user()
    sent = await tg.say(f"where is {number}")
    assert f"I can't find an order {number}." in sent[0].text
    assert "send the order number with the email address you gave" in sent[0].text

    sent = await tg.say(f"{number} ann@example.com")        # any case, as typed
    assert f"Order {number}: paid." in sent[0].text
    assert "2 × Blue mug" in sent[0].text

    sent = await tg.say(f"cancel {number} ann@example.com")  # looking is not owning
    assert f"I can't find an order {number}." in sent[0].text

    bo = platforms.telegram_user(user_id=444555666, first_name="Bo")
    answers = [(await bo.say(f"where is {number} bo@example.com"))[0].text for _ in range(4)]
    assert answers[0] == answers[1] == answers[2] == f"I can't find an order {number}."
    assert "Too many tries: please wait" in answers[3]
    others = [(await bo.say(f"where is {number} bo{n}@example.com"))[0].text for n in range(8)]
    # Other addresses are other pairs, but Bo's chat is counted too: ten wrong in all, then
    # Bo waits.
    assert others[:7] == [f"I can't find an order {number}."] * 7
    assert "Too many tries: please wait" in others[7]
    # Bo's guessing does not lock the owner out: the right pair still works at once.
    sent = await tg.say(f"{number} ann@example.com")
    assert f"Order {number}: paid." in sent[0].text
