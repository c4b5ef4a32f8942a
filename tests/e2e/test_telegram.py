"""Shopping in Telegram: updates shaped as the Bot API sends them go to the real webhook;
every assertion reads the Bot API calls the bot made to the recording double.
"""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from bot.pipeline import SLOW_DOWN
from bot.server import create_app
from bot.sessions.flood import WINDOW
from core.carts import service as carts
from core.shop import Shop
from core.webhooks.models import WebhookReceipt
from tests.bot.sessions.test_flood import _early_in_a_window
from tests.e2e.conftest import FAST, Platforms, channel_settings
from tests.e2e.platforms import keyboard_labels
from tests.support.demo_copy import demo_filled


async def test_browse_to_cart_with_buttons_and_words(platforms: Platforms):
    ann = platforms.telegram_user()
    sent = await ann.say("/start")
    assert [c.method for c in sent] == ["sendMessage"]
    assert "Hi Ann!" in sent[0].text and "Browse the shop" in keyboard_labels(sent[0])
    assert sent[0].params["parse_mode"] == "HTML"

    sent = await ann.press("Browse the shop")
    assert sent[0].method == "editMessageText"  # the menu turns into the category list
    assert "Kitchen" in " ".join(keyboard_labels(sent[0]))

    sent = await ann.say("show me blue mugs under 15 euros")
    assert "Blue mug" in sent[0].text
    sent = await ann.press("Blue mug ·")
    photo = sent[0]
    assert photo.method == "sendPhoto"
    assert photo.params["photo"].startswith("attach://"), "our own picture file is uploaded"
    assert photo.params["_uploaded"], "with the file in the request"
    assert photo.text.startswith("Blue mug — €12.50")
    sent = await ann.press("Add to cart")
    assert "Added" in sent[0].text and "1 × Blue mug" in sent[0].text

    sent = await ann.say("add 2 red mugs")
    assert "2 × Red mug" in sent[0].text
    assert "Total: €37.50 (3 items)" in sent[0].text

    async with platforms.shop.transaction() as session:
        cart = await carts.cart_for(session=session, currency="EUR",
                                    session_key="telegram:111222333")
        view = await carts.view(session=session, cart=cart)
    assert view.item_count == 3 and view.subtotal.amount == 3750


async def test_cart_buttons_edit_the_cart_message_in_place(platforms: Platforms):
    ann = platforms.telegram_user()
    await ann.say("add a blue mug")
    cart = await ann.say("/cart")
    assert cart[0].method == "sendMessage"

    plus = await ann.press("+")
    assert [c.method for c in plus] == ["editMessageText"]
    edited = plus[0]
    _, button = ann.button("+")
    message_id = int(edited.params["message_id"])
    assert "2 × Blue mug" in edited.text
    answers = platforms.telegram.of("answerCallbackQuery")
    assert answers, "every button press answers its callback query"

    minus = await ann.press("− Blue mug")
    assert minus[0].method == "editMessageText"
    assert int(minus[0].params["message_id"]) == message_id
    assert "1 × Blue mug" in minus[0].text
    assert button["callback_data"].startswith("qty:")


async def test_page_buttons_edit_the_list_instead_of_flooding_the_chat(platforms: Platforms):
    ann = platforms.telegram_user()
    await ann.say("/start")
    await ann.press("Browse the shop")
    await ann.press("Kitchen")
    listing = await ann.press("Next ▶")
    assert [c.method for c in listing] == ["editMessageText"]
    assert "page 2 of" in listing[0].text
    back = await ann.press("◀ Previous")
    assert back[0].method == "editMessageText" and "page 1 of" in back[0].text


async def test_a_duplicate_update_is_processed_once(platforms: Platforms):
    ann = platforms.telegram_user()
    update = ann.message_update("add a blue mug")
    await ann.send(update)
    response = await ann.post(update)  # Telegram redelivers after a timeout
    assert response.status_code == 200
    await platforms.settle_telegram()
    await asyncio.sleep(0.1)
    assert len(ann.mine()) == 1, "the redelivered update got no second answer"
    async with platforms.shop.transaction() as session:
        cart = await carts.cart_for(session=session, currency="EUR",
                                    session_key="telegram:111222333")
        view = await carts.view(session=session, cart=cart)
        receipts = await session.scalar(select(func.count()).select_from(WebhookReceipt))
    assert view.item_count == 1
    assert receipts == 1


async def test_forged_and_malformed_updates_are_refused_and_change_nothing(platforms: Platforms):
    ann = platforms.telegram_user()
    forged = await ann.post(ann.message_update("add a blue mug"), secret="wrong-secret-value")
    assert forged.status_code == 401
    missing = await platforms.http.post("/telegram/webhook", json=ann.message_update("hi"))
    assert missing.status_code == 401
    for body in ({"message": {"text": "hi"}}, {"update_id": "x"}, [1, 2],
                 {"update_id": 5, "message": {"message_id": "nope"}}):
        response = await ann.post(body)  # type: ignore[arg-type]
        assert response.status_code == 400, body
    garbage = await platforms.http.post(
        "/telegram/webhook", content=b"{not json",
        headers={"X-Telegram-Bot-Api-Secret-Token": ann.secret})
    assert garbage.status_code == 400
    await asyncio.sleep(0.05)
    assert ann.mine() == []
    async with platforms.shop.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookReceipt)) == 0


async def test_a_429_from_telegram_is_waited_out_and_the_reply_still_arrives(
        platforms: Platforms):
    ann = platforms.telegram_user()
    platforms.telegram.fail("sendMessage", times=1, status=429, retry_after=1)
    sent = await ann.say("/start")
    attempts = platforms.telegram.of("sendMessage", chat="111222333")
    assert len(attempts) == 2, "the reply was tried, refused with 429, and sent again"
    assert attempts[1].at - attempts[0].at >= 0.95, "it waited the retry_after Telegram gave"
    assert "Welcome" in sent[-1].text


async def test_a_burst_of_messages_is_answered_in_order(platforms: Platforms):
    ann = platforms.telegram_user()
    words = ["add a blue mug", "add a red mug", "what's in my cart"]
    responses = await asyncio.gather(*(ann.post(ann.message_update(text)) for text in words))
    assert [r.status_code for r in responses] == [200, 200, 200]
    await platforms.settle_telegram()
    texts = [c.text for c in ann.mine()]
    assert "Blue mug" in texts[0] and "Red mug" not in texts[0]
    assert "Red mug" in texts[1]
    assert "Blue mug" in texts[2] and "Red mug" in texts[2]


async def test_a_slow_chat_does_not_hold_up_another(platforms: Platforms):
    slow, quick = platforms.telegram_user(5001, "Sam"), platforms.telegram_user(5002, "Kim")
    platforms.telegram.slow["5001"] = 4.0  # every Bot API call for Sam hangs 4 s
    await slow.post(slow.message_update("/start"))
    started = asyncio.get_running_loop().time()
    await quick.post(quick.message_update("/start"))
    await platforms.telegram.wait_for(lambda: quick.mine())
    # Kim is answered long before Sam's call returns (2 s leaves room for a busy machine).
    assert asyncio.get_running_loop().time() - started < 2.0


async def test_the_same_update_reaching_two_processes_at_once_is_handled_once(
        platforms: Platforms, trained):
    """Two app instances (as two processes would) share the database; Telegram's retry of
    an update lands on the second while the first is still on it."""
    import httpx

    from bot.server import create_app
    from core.shop import Shop
    from tests.e2e.conftest import FAST

    other_shop = Shop.from_settings(platforms.app.state.shop.settings)
    other = create_app(other_shop.settings, other_shop, nlu=trained, sweep_seconds=3600,
                       limits=FAST)
    ann = platforms.telegram_user()
    update = ann.message_update("add a blue mug")
    try:
        async with other.router.lifespan_context(other):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other),
                                         base_url="http://test") as second:
                headers = {"X-Telegram-Bot-Api-Secret-Token": ann.secret}
                first_try, second_try = await asyncio.gather(
                    ann.post(update),
                    second.post("/telegram/webhook", json=update, headers=headers))
                assert first_try.status_code == second_try.status_code == 200
                await other.state.telegram.sender.drain(5)
        await platforms.settle_telegram()
    finally:
        await other_shop.close()
    assert len(ann.mine()) == 1
    async with platforms.shop.transaction() as session:
        cart = await carts.cart_for(session=session, currency="EUR",
                                    session_key="telegram:111222333")
        assert (await carts.view(session=session, cart=cart)).item_count == 1


async def test_a_telegram_outage_is_retried_until_the_reply_gets_through(platforms: Platforms):
    ann = platforms.telegram_user()
    platforms.telegram.fail("sendMessage", times=3, status=502)
    sent = await ann.say("/start")
    assert len(platforms.telegram.of("sendMessage", chat="111222333")) == 4
    assert "Welcome" in sent[-1].text


async def test_a_group_chat_is_pointed_to_a_private_chat(platforms: Platforms):
    ann = platforms.telegram_user()
    update = ann.message_update("/start@chatcart_test_bot")
    update["message"]["chat"] = {"id": -100200300, "title": "Friends", "type": "supergroup"}
    response = await ann.post(update)
    assert response.status_code == 200
    await platforms.settle_telegram()
    (call,) = platforms.telegram.of("sendMessage", chat="-100200300")
    assert "private chat" in call.text


async def test_checkout_in_telegram_is_confirmed_in_the_same_chat(platforms: Platforms):
    from urllib.parse import urlsplit

    ann = platforms.telegram_user()
    from tests.e2e.checkout_steps import to_review

    await to_review(ann, "IE")
    assert any("what email address" in call.text for call in ann.mine())
    sent = await ann.press("Pay €29.90")
    text = sent[-1].text
    number = text.split("Order ")[1].split(" ")[0]
    # The test page's link is on loopback, which Telegram refuses as a button: it is written out.
    url = next(word for word in text.split() if "/pay/test/" in word)
    paid = await platforms.http.post(urlsplit(url).path, data={"outcome": "pay"})
    assert paid.status_code == 200
    confirmation = await ann.replies()
    assert f"Order {number} is confirmed" in confirmation[0].text
    assert "1 Main Street, D02 X285 Dublin, Ireland" in confirmation[0].text


async def test_every_button_press_stops_its_spinner_even_when_a_flood_is_dropped(
        database_url, tmp_path, trained, telegram_api, slack_api):
    """A chat pressing faster than anyone can is slowed down (the presses past the limit
    do nothing), but each press is answered, or Telegram would spin it for seconds."""
    settings = channel_settings(database_url, tmp_path / "data", telegram_api, slack_api,
                                CHAT_FLOOD_LIMIT="4")
    shop = Shop.from_settings(settings)
    await demo_filled(shop)
    app = create_app(settings, shop, nlu=trained, sweep_seconds=3600, limits=FAST)
    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            platforms = Platforms(app, http, shop, telegram_api, slack_api)
            ann = platforms.telegram_user(user_id=424242)
            await _early_in_a_window(WINDOW, 6)
            await ann.say("/start")
            presses = [ann.press_update("Browse the shop") for _ in range(7)]
            for update in presses:
                assert (await ann.post(update)).status_code == 200
            await platforms.settle_telegram()
            answered = {call.params.get("callback_query_id")
                        for call in telegram_api.of("answerCallbackQuery")}
            assert {u["callback_query"]["id"] for u in presses} <= answered
            told = [c.text for c in ann.mine() if c.text == SLOW_DOWN]
            assert len(told) == 1, "told once to slow down, the rest dropped"
    finally:
        await shop.close()
