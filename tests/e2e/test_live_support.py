"""A person takes over a chat (issue 17): the shopper asks, an agent answers through core,
the bot stays quiet, the agent resolves, the shopper rates, the bot answers again. Web
chat through its JSON API and Telegram through its double, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select, update

from bot import held
from core.accounts.models import Role
from core.audit.actor import Actor, Channel
from core.clock import now
from core.outbox.models import OutboxMessage
from core.support import conversations
from core.support import service as support
from core.support.models import Author, HandoffRequest, HandoffStatus, Origin
from tests import factories
from tests.e2e.conftest import Platforms
from tests.e2e.webchat import Shopper
from tests.support.at_rest import stored_as_is


async def _agent(platforms: Platforms, email: str = "sam@example.com") -> int:
    async with platforms.shop.transaction() as session:
        sam = await factories.user(session, email, role=Role.SUPPORT)
        await conversations.seen_staff(session=session, staff_id=sam.id)  # online
        return sam.id


async def _request(platforms: Platforms, chat_key: str) -> HandoffRequest:
    async with platforms.shop.transaction() as session:
        found = await session.scalar(select(HandoffRequest).where(
            HandoffRequest.chat_key == chat_key).order_by(HandoffRequest.id.desc()))
        assert found is not None
        session.expunge(found)
        return found


async def _reply(platforms: Platforms, handoff_id: int, staff_id: int, text: str) -> None:
    async with platforms.shop.transaction() as session:
        await conversations.agent_reply(
            session=session, handoff_id=handoff_id, staff_id=staff_id, text=text,
            origin=Origin.CONSOLE, actor=Actor(Channel.ADMIN, user_id=staff_id))


async def _resolve(platforms: Platforms, handoff_id: int, staff_id: int) -> None:
    async with platforms.shop.transaction() as session:
        await conversations.resolve(session=session, handoff_id=handoff_id,
                                    staff_id=staff_id,
                                    actor=Actor(Channel.ADMIN, user_id=staff_id))


async def _until(shopper: Shopper, words: str) -> list[dict]:
    seen: list[dict] = []
    for _ in range(5):
        seen += await shopper.news(wait=2)
        if any(words in reply["text"] for reply in seen):
            return seen
    raise AssertionError(f"{words!r} never reached the shopper: {seen}")


async def test_web_shopper_talks_with_a_person_then_rates_and_the_bot_answers_again(
        platforms: Platforms):
    sam = await _agent(platforms)
    ann = Shopper(platforms.http)
    await ann.say("show me mugs")
    await ann.say("I want to talk to a real person")
    assert "number 1 in the queue" in ann.text and "Back to the bot" in ann.buttons()
    request = await _request(platforms, ann.chat_key)
    assert request.status is HandoffStatus.OPEN

    await _reply(platforms, request.id, sam, "Hello Ann, Sam here. How can I help?")
    news = await _until(ann, "Sam here")
    assert [r["text"] for r in news][-1].endswith("Hello Ann, Sam here. How can I help?")

    assert await ann.say("show me mugs") == []  # the bot stays silent: it is for Sam
    async with platforms.shop.transaction() as session:
        entries = await conversations.transcript(session=session, handoff_id=request.id)
        held = await session.get(HandoffRequest, request.id)
        assert held is not None and held.status is HandoffStatus.TAKEN
        assert held.taken_by_id == sam
    said = [(e.author, e.text) for e in entries if not e.context]
    assert (Author.AGENT, "Hello Ann, Sam here. How can I help?") in said
    assert said[-1] == (Author.SHOPPER, "show me mugs")
    context = [e for e in entries if e.context]
    assert context[0].author is Author.SHOPPER and context[0].text == "show me mugs"
    assert context[1].author is Author.BOT and "Mug" in context[1].text  # the bot's list

    await _resolve(platforms, request.id, sam)
    news = await _until(ann, "How did we do")
    assert any("back with the shop's bot" in r["text"] for r in news)
    rating = next(r for r in news if "How did we do" in r["text"])
    assert [b["label"] for b in rating["buttons"]] == ["1", "2", "3", "4", "5"]
    ann.last = news
    await ann.press("4")
    assert "Anything you would like to add" in ann.text
    await ann.say("Quick and kind, thanks")
    assert "comment was passed on" in ann.text
    async with platforms.shop.transaction() as session:
        rated = await session.get(HandoffRequest, request.id)
        assert rated is not None and rated.rating == 4
        assert conversations.unseal(session, rated.rating_comment) == "Quick and kind, thanks"
        assert "Quick" not in (rated.rating_comment or "")  # sealed at rest
        summary = await conversations.ratings_summary(session=session)
    assert summary.overall.count == 1 and summary.per_agent[sam][1].tenths == 40

    await ann.say("show me mugs")
    assert "Mug" in ann.text  # the bot answers again


async def test_web_shopper_leaves_the_queue_and_hears_the_waiting_notice_once(
        platforms: Platforms):
    await _agent(platforms)
    ann = Shopper(platforms.http)
    await ann.say("human please")
    assert "queue" in ann.text
    first = await ann.say("my parcel is late")
    assert "passed on" in first[0]["text"] and "number 1" in first[0]["text"]
    assert await ann.say("it was order CC-7KX3MQ") == []  # no second notice so soon
    ann.last = first
    await ann.press("Back to the bot")
    assert "back with the bot" in ann.text
    request = await _request(platforms, ann.chat_key)
    assert request.status is HandoffStatus.CLOSED and request.close_reason == "left"
    await ann.say("show me mugs")
    assert "Mug" in ann.text


async def test_nobody_online_is_said_honestly_and_the_answer_still_arrives_later(
        platforms: Platforms, caplog):
    caplog.set_level(logging.INFO, logger="chatcart.mail")
    ann = Shopper(platforms.http)
    await ann.say("agent")
    assert "Nobody from our team is online right now" in ann.text
    assert "type your email address" in ann.text
    await ann.say("ann@example.com")
    assert "also send our answer to ann@example.com" in ann.text
    request = await _request(platforms, ann.chat_key)
    assert request.offline and request.contact_email and "ann@" not in request.contact_email
    sam = await _agent(platforms)
    await _reply(platforms, request.id, sam, "Sorry for the wait: here is your answer.")
    await _until(ann, "here is your answer")
    for _ in range(50):  # and by email, through the outbox (no SMTP here: the mail log)
        if "to=ann@example.com" in caplog.text:
            break
        await asyncio.sleep(0.1)
    assert "to=ann@example.com" in caplog.text and "here is your answer" in caplog.text

    await ann.say("Thanks, I am back in the chat")  # live now: answers stay in the chat
    await _reply(platforms, request.id, sam, "Good to see you. Anything else?")
    await _until(ann, "Anything else?")
    async with platforms.shop.transaction() as session:
        emailed = list(await session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.chat_key == f"email:support-{request.id}")))
    assert len(emailed) == 1
    assert not (await _request(platforms, ann.chat_key)).offline


async def test_a_rating_comment_is_only_taken_soon_after_the_rating(platforms: Platforms,
                                                                    monkeypatch):
    sam = await _agent(platforms)
    ann = Shopper(platforms.http)
    await ann.say("human")
    request = await _request(platforms, ann.chat_key)
    await _reply(platforms, request.id, sam, "Sam here.")
    await _resolve(platforms, request.id, sam)
    ann.last = await _until(ann, "How did we do")
    await ann.press("5")
    assert "Anything you would like to add" in ann.text
    later = now() + timedelta(minutes=31)  # past held.RATING_WINDOW
    monkeypatch.setattr(held, "now", lambda: later)  # the shopper comes back an hour later
    await ann.say("show me mugs")
    assert "Mug" in ann.text and "comment" not in ann.text  # for the bot, not a comment
    async with platforms.shop.transaction() as session:
        rated = await session.get(HandoffRequest, request.id)
        assert rated is not None and rated.rating == 5 and rated.rating_comment is None


async def test_telegram_shopper_hears_the_agent_and_a_block_closes_the_conversation(
        platforms: Platforms):
    sam = await _agent(platforms)
    ann = platforms.telegram_user()
    await ann.say("/start")
    await ann.say("I need a human")
    chat_key = f"telegram:{ann.chat['id']}"
    request = await _request(platforms, chat_key)
    await _reply(platforms, request.id, sam, "Hi from Sam")
    await platforms.telegram.wait_for(lambda: any("Hi from Sam" in c.text
                                                  for c in ann.mine()))
    await ann.replies()  # read what came so far
    assert (await ann.post(ann.message_update("show me mugs"))).status_code == 200
    await platforms.settle_telegram()
    assert len(ann.mine()) == ann.seen  # silent while Sam holds the chat

    platforms.telegram.fail("sendMessage", times=1, status=400)  # one message refused
    await _reply(platforms, request.id, sam, "Your code is *1234")
    await _given_up(platforms, chat_key, 1)
    assert (await _request(platforms, chat_key)).status is HandoffStatus.TAKEN  # talk goes on
    await _reply(platforms, request.id, sam, "Sorry, again: your code is 1234")
    await platforms.telegram.wait_for(lambda: any("again: your code" in c.text
                                                  for c in ann.mine()))

    platforms.telegram.fail("sendMessage", times=50, status=403)  # Ann blocked the bot
    await _reply(platforms, request.id, sam, "Are you still there?")

    async def closed() -> bool:
        return (await _request(platforms, chat_key)).status is HandoffStatus.CLOSED
    for _ in range(100):
        if await closed():
            break
        await asyncio.sleep(0.1)
    found = await _request(platforms, chat_key)
    assert found.status is HandoffStatus.CLOSED and found.close_reason == "undeliverable"


async def _given_up(platforms: Platforms, chat_key: str, count: int) -> None:
    """Until the relay has given up on `count` messages to the chat."""
    for _ in range(100):
        async with platforms.shop.transaction() as session:
            given_up = list(await session.scalars(select(OutboxMessage.id).where(
                OutboxMessage.chat_key == chat_key, OutboxMessage.gave_up_at.is_not(None))))
        if len(given_up) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the relay never gave up on {count} message(s) to {chat_key}")


async def test_slack_refusing_one_message_keeps_the_talk_and_a_gone_channel_ends_it(
        platforms: Platforms):
    sam = await _agent(platforms)
    ann = platforms.slack_user()
    await ann.say("I need a human")
    chat_key = f"slack:{ann.channel}"
    request = await _request(platforms, chat_key)
    platforms.slack.fail("chat.postMessage", times=1, status=200, error="msg_too_long")
    await _reply(platforms, request.id, sam, "A very long answer")
    await _given_up(platforms, chat_key, 1)
    assert (await _request(platforms, chat_key)).status is HandoffStatus.TAKEN
    platforms.slack.fail("chat.postMessage", times=50, status=200, error="channel_not_found")
    await _reply(platforms, request.id, sam, "Are you still there?")
    await _given_up(platforms, chat_key, 2)
    found = await _request(platforms, chat_key)
    assert found.status is HandoffStatus.CLOSED and found.close_reason == "undeliverable"


async def test_the_words_a_shopper_asks_for_a_person_with_are_sealed_at_rest(
        platforms: Platforms):
    ann = Shopper(platforms.http)
    words = "I need a human about parcel QUOKKAWOMBAT"
    await ann.say(words)
    assert "queue" in ann.text or "online" in ann.text
    stored = await stored_as_is(platforms.shop)
    assert stored and not any(b"QUOKKAWOMBAT" in chunk for chunk in stored)
    request = await _request(platforms, ann.chat_key)
    async with platforms.shop.transaction() as session:
        (waiting,) = await support.handoffs(session=session)
        assert waiting.reason == words  # staff read it, opened
        await session.execute(update(HandoffRequest).values(reason="Where is my order?"))
        (older,) = await support.handoffs(session=session)  # stored before sealing: plain
        assert older.reason == "Where is my order?"
    assert "QUOKKA" not in request.reason


async def test_after_three_misunderstood_messages_the_bot_offers_a_person(
        platforms: Platforms):
    ann = Shopper(platforms.http)
    await ann.say("zqxv blorp")
    await ann.say("vrrk mnuh")
    assert "Talk to a person" not in ann.text
    await ann.say("plifz qworn")
    assert "keep misunderstanding" in ann.text and "Talk to a person" in ann.buttons()
    await ann.press("Talk to a person")
    assert "queue" in ann.text or "online" in ann.text
