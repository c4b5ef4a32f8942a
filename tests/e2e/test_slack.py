"""Shopping in Slack: Events API and block_actions payloads, signed as Slack signs them,
go to the real `/slack/events`; assertions read the Web API calls the app made.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from core.carts import service as carts
from core.webhooks.models import WebhookReceipt
from tests.e2e.conftest import Platforms
from tests.e2e.platforms import slack_buttons, slack_text


async def test_browse_to_cart_in_a_direct_message(platforms: Platforms):
    ann = platforms.slack_user()
    sent = await ann.say("hi")
    assert [c.method for c in sent] == ["chat.postMessage"]
    assert "Welcome" in slack_text(sent[0]) and "Browse the shop" in slack_buttons(sent[0])
    assert sent[0].params["channel"] == ann.channel

    sent = await ann.press("Browse the shop")
    assert sent[0].method == "chat.update", "the menu message becomes the category list"
    sent = await ann.say("blue mugs")
    assert "Blue mug" in slack_text(sent[0])
    sent = await ann.press("Blue mug ·")
    assert slack_text(sent[0]).startswith("Blue mug — €12.50")
    sent = await ann.press("Add to cart")
    assert "1 × Blue mug" in slack_text(sent[0])
    sent = await ann.say("add 2 red mugs")
    assert "Total: €37.50 (3 items)" in slack_text(sent[0])

    plus = await ann.press("+")
    assert [c.method for c in plus] == ["chat.update"]
    assert "2 × Blue mug" in slack_text(plus[0]) or "3 × Red mug" in slack_text(plus[0])
    async with platforms.shop.transaction() as session:
        cart = await carts.cart_for(session=session, currency="EUR",
                                    session_key=f"slack:{ann.channel}")
        view = await carts.view(session=session, cart=cart)
    assert view.item_count == 4


async def test_blocks_respect_slack_limits_and_escape_product_names(platforms: Platforms):
    from tests import factories

    async with platforms.shop.transaction() as session:
        for n in range(7):
            await factories.product(session, name=f"Tom & Jerry <b>mug</b> {n}", price=900,
                                    category="Gifts > Odd & curious", sku=f"ODD-{n}")
    ann = platforms.slack_user()
    await ann.say("hi")
    await ann.press("Browse the shop")
    sent = await ann.press("Gifts")
    text = slack_text(sent[0])
    assert "Tom &amp; Jerry &lt;b&gt;mug&lt;/b&gt; 1" in text and "<b>" not in text
    for call in sent:
        blocks = call.params["blocks"]
        assert len(blocks) <= 50
        for block in blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
            if block["type"] == "actions":
                assert len(block["elements"]) <= 25
                assert all(len(e["text"]["text"]) <= 75 for e in block["elements"])
        ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
        assert len(ids) == len(set(ids)), "action ids are unique within a message"


async def test_a_retried_event_is_processed_once(platforms: Platforms):
    ann = platforms.slack_user()
    event = ann.message_event("add a blue mug")
    first = await ann.post_json(event)
    assert first.status_code == 200
    await ann.replies()
    retry = await ann.post_json(event, headers={"X-Slack-Retry-Num": "1",
                                                "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200
    await asyncio.sleep(0.2)
    await platforms.settle_slack()
    assert len(ann.mine()) == 1
    async with platforms.shop.transaction() as session:
        cart = await carts.cart_for(session=session, currency="EUR",
                                    session_key=f"slack:{ann.channel}")
        assert (await carts.view(session=session, cart=cart)).item_count == 1


async def test_forged_or_stale_signatures_get_401_and_change_nothing(platforms: Platforms):
    ann = platforms.slack_user()
    forged = await ann.post_json(ann.message_event("add a blue mug"),
                                 secret="0000000000000000ffffffffffffffff")
    assert forged.status_code == 401
    stale = await ann.post_json(ann.message_event("add a blue mug"),
                                timestamp=str(int(time.time()) - 3600))
    assert stale.status_code == 401
    unsigned = await platforms.http.post("/slack/events", json=ann.message_event("hi"))
    assert unsigned.status_code == 401
    await asyncio.sleep(0.1)
    assert ann.mine() == []
    async with platforms.shop.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookReceipt)) == 0


async def test_url_verification_is_answered(platforms: Platforms):
    ann = platforms.slack_user()
    response = await ann.post_json({"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3g",
                                    "type": "url_verification"})
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3g"}


async def test_clicks_and_events_are_acknowledged_before_the_work_is_done(
        platforms: Platforms, monkeypatch):
    ann = platforms.slack_user()
    await ann.say("hi")
    pipeline = platforms.app.state.slack.pipeline
    real = pipeline.handle

    async def slow_turn(incoming):
        await asyncio.sleep(4)  # longer than Slack's 3 seconds
        return await real(incoming)

    monkeypatch.setattr(pipeline, "handle", slow_turn)
    started = time.monotonic()
    click = await ann.post_action(ann.action_payload("My cart"))
    event = await ann.post_json(ann.message_event("add a blue mug"))
    assert click.status_code == event.status_code == 200
    assert time.monotonic() - started < 2.0, "both answered well before the 4-second turns"
    sent = await ann.replies()  # the work still happens, after the acknowledgement
    assert sent


async def test_a_429_from_slack_is_waited_out_and_the_reply_still_arrives(platforms: Platforms):
    ann = platforms.slack_user()
    platforms.slack.fail("chat.postMessage", times=1, status=429, retry_after=1)
    sent = await ann.say("hi")
    attempts = platforms.slack.of("chat.postMessage", chat=ann.channel)
    assert len(attempts) == 2
    assert attempts[1].at - attempts[0].at >= 0.95
    assert "Welcome" in slack_text(sent[-1])


async def test_a_mention_in_a_channel_is_answered_privately(platforms: Platforms):
    ann = platforms.slack_user()
    event = ann.message_event("<@UBOT0001> show me blue mugs", channel_type="channel",
                              kind="app_mention")
    event["event"]["channel"] = "C0GENERAL"
    response = await ann.post_json(event)
    assert response.status_code == 200
    await platforms.slack.wait_for(lambda: ann.mine())
    await platforms.settle_slack()
    assert platforms.slack.of("conversations.open")[0].params["users"] == ann.user
    in_channel = platforms.slack.of("chat.postMessage", chat="C0GENERAL")
    assert "direct message" in in_channel[0].text
    assert in_channel[0].params["thread_ts"] == event["event"]["ts"]
    assert "Blue mug" in slack_text(ann.mine()[0])


async def test_messages_from_bots_and_edits_are_ignored(platforms: Platforms):
    ann = platforms.slack_user()
    edited = ann.message_event("hi")
    edited["event"]["subtype"] = "message_changed"
    bot = ann.message_event("hi")
    bot["event"]["bot_id"] = "B0OTHER"
    for event in (edited, bot):
        assert (await ann.post_json(event)).status_code == 200
    await asyncio.sleep(0.2)
    await platforms.settle_slack()
    assert ann.mine() == []


async def test_socket_mode_receives_events_without_a_public_url(
        database_url, tmp_path, trained, telegram_api, slack_api):
    from bot.server import create_app
    from core.shop import Shop
    from tests.e2e.conftest import FAST, channel_settings
    from tests.e2e.platforms import SlackUser

    settings = channel_settings(database_url, tmp_path / "data", telegram_api, slack_api,
                                SLACK_APP_TOKEN="xapp-1-A0SHOP-1-0123456789abcdef")
    shop = Shop.from_settings(settings)
    app = create_app(settings, shop, nlu=trained, sweep_seconds=3600, limits=FAST)
    try:
        async with app.router.lifespan_context(app):
            ann = SlackUser(None, slack_api, "unused", app.state.slack.sender.drain)  # type: ignore[arg-type]
            await slack_api.send_envelope(ann.message_event("hi"), "env-1")
            sent = await ann.replies()
            assert "Welcome" in slack_text(sent[0])
            await slack_api.wait_for(lambda: slack_api.socket_acks)
            assert slack_api.socket_acks[0]["envelope_id"] == "env-1"
    finally:
        await shop.close()


async def test_checkout_in_slack_is_confirmed_in_the_direct_message(platforms: Platforms):
    from urllib.parse import urlsplit

    ann = platforms.slack_user()
    from tests.e2e.checkout_steps import to_review

    await to_review(ann, "GB", email="<mailto:ann@example.com|ann@example.com>")
    sent = await ann.press("Pay €29.90")
    number = slack_text(sent[-1]).split("Order ")[1].split(" ")[0]
    pay = next(e for b in sent[-1].params["blocks"] if b["type"] == "actions"
               for e in b["elements"] if "url" in e)
    assert pay["style"] == "primary" and "/pay/test/" in pay["url"]
    paid = await platforms.http.post(urlsplit(pay["url"]).path, data={"outcome": "pay"})
    assert paid.status_code == 200
    confirmation = await ann.replies()
    assert f"Order {number} is confirmed" in slack_text(confirmation[0])
    assert "SW1A 1AA London, United Kingdom" in slack_text(confirmation[0])
