"""The rules inside live support: opening hours, waiting notices, the words that ask for a
person or leave, the rolling context, ratings, and one owner at a time."""

import asyncio
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select

from bot import held
from core.accounts import identities
from core.accounts.models import Role
from core.audit.actor import Actor, Channel
from core.audit.models import AuditEvent
from core.config import ConfigError, load_settings
from core.crypto import Vault
from core.errors import Conflict
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage
from core.support import context, conversations
from core.support.hours import parse
from core.support.models import HandoffStatus, Origin
from tests import factories
from tests.factories import ADMIN


def test_hours_are_open_on_their_days_and_say_when_they_open_next():
    hours = parse("Mon-Fri 09:00-17:00 Europe/Berlin")
    friday_evening = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)  # 18:30 in Berlin
    assert not hours.is_open(friday_evening)
    monday = hours.next_open(friday_evening)
    assert (monday.strftime("%A %H:%M"), str(monday.tzinfo)) == ("Monday 09:00",
                                                                 "Europe/Berlin")
    assert hours.is_open(datetime(2026, 12, 7, 8, 0, tzinfo=UTC))  # 09:00 Berlin
    weekend = parse("Sat-Sun 10:00-24:00 UTC")
    assert weekend.is_open(datetime(2026, 12, 6, 23, 59, tzinfo=UTC))
    assert parse("Fri-Mon 10:00-12:00 UTC").days == frozenset({4, 5, 6, 0})


@pytest.mark.parametrize("bad, says", [
    ("Mon-Fry 09:00-17:00 Europe/Berlin", "days are written"),
    ("Mon-Fri 17:00-09:00 Europe/Berlin", "closing time must come after"),
    ("Mon-Fri 09:00-17:00 Mars/Olympus", "unknown time zone"),
    ("weekdays", "like 'Mon-Fri 09:00-17:00 Europe/Berlin'"),
    ("Mon 25:00-26:00 UTC", "00:00 to 24:00"),
])
def test_bad_support_hours_stop_the_start_with_a_clear_message(bad, says):
    with pytest.raises(ConfigError, match="SUPPORT_HOURS") as caught:
        load_settings(SUPPORT_HOURS=bad)
    assert says in str(caught.value)
    assert load_settings(SUPPORT_HOURS="").hours is None  # unset: always


def test_a_waiting_shopper_hears_at_most_one_notice_every_few_minutes():
    start = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert held.notice_due(None, start)
    assert not held.notice_due(start, start + timedelta(minutes=2, seconds=59))
    assert held.notice_due(start, start + held.NOTICE_SPACING)


@pytest.mark.parametrize("text, person", [
    ("Human", True), ("can I talk to an agent", True), ("I want a real person!", True),
    ("show me mugs", False), ("humane mousetrap", False)])
def test_words_that_ask_for_a_person(text, person):
    assert held.asks_for_person(text) is person


@pytest.mark.parametrize("text, person", [
    ("human", True), ("Agent!", True), ("a real person", True), ("talk to an agent", True),
    ("I want a human", True), ("can I speak to a person please", True),
    ("agent.smith@example.com", False), ("12 Agent Street", False), ("Ann Human", False),
    ("Agent Street", False), ("person", False)])
def test_inside_a_dialog_only_a_request_for_a_person_asks_for_one(text, person):
    assert held.asks_for_person(text, in_dialog=True) is person
    assert not held.asks_for_person("my email is agent.smith@example.com")


@pytest.mark.parametrize("text, leaves", [
    ("back to the bot", True), ("Back to bot!", True), ("leave the queue", True),
    ("I will be back to the bot later maybe", False)])
def test_words_that_leave_the_queue(text, leaves):
    assert held.wants_to_leave(text) is leaves


def test_the_rolling_context_keeps_the_last_twenty_turns_sealed():
    vault, token = Vault("k" * 40), None
    for n in range(25):
        token = context.pushed(vault, token, f"message {n}", [f"answer {n}"])
    entries = context.opened(vault, token)
    assert entries[0] == ("shopper", "message 5") and entries[-1] == ("bot", "answer 24")
    assert len(entries) == 40 and "message" not in (token or "")
    assert context.opened(Vault("another key" * 4), token) == []


async def _open(session, who: str):
    chat = await identities.identify(session=session, platform="web", platform_user_id=who,
                                     display_name=who)
    request, _ = await conversations.ask(session=session, identity_id=chat.id,
                                         chat_key=f"web:{who}", reason="help", actor=ADMIN)
    return request, chat.id


async def test_ratings_are_summed_exactly_overall_and_per_agent(shop):
    async with shop.transaction() as session:
        sam = await factories.user(session, "sam@example.com", role=Role.SUPPORT)
        kim = await factories.user(session, "kim@example.com", role=Role.SUPPORT)
        for who, agent, stars in (("a", sam, 5), ("b", sam, 4), ("c", kim, 2)):
            request, identity = await _open(session, who)
            actor = Actor(Channel.ADMIN, user_id=agent.id)
            await conversations.take(session=session, handoff_id=request.id,
                                     staff_id=agent.id, actor=actor)
            await conversations.resolve(session=session, handoff_id=request.id,
                                        staff_id=agent.id, actor=actor)
            await conversations.rate(session=session, handoff_id=request.id, rating=stars,
                                     identity_id=identity, actor=ADMIN)
        summary = await conversations.ratings_summary(session=session)
    assert summary.overall.count == 3 and summary.overall.average == Fraction(11, 3)
    assert summary.overall.tenths == 37
    assert summary.per_agent[sam.id] == ("sam@example.com",
                                         conversations.Ratings(2, Fraction(9, 2)))


async def test_a_reply_to_a_resolved_conversation_or_a_colleagues_is_refused(shop):
    async with shop.transaction() as session:
        sam = await factories.user(session, "sam@example.com", role=Role.SUPPORT)
        kim = await factories.user(session, "kim@example.com", role=Role.SUPPORT)
        request, _ = await _open(session, "ann")
        actor = Actor(Channel.ADMIN, user_id=sam.id)
        await conversations.agent_reply(session=session, handoff_id=request.id,
                                         staff_id=sam.id, text="Hi", origin=Origin.CONSOLE,
                                         actor=actor)
        assert request.status is HandoffStatus.TAKEN and request.taken_by_id == sam.id
        with pytest.raises(Conflict, match="sam@example.com has already taken it"):
            await conversations.agent_reply(session=session, handoff_id=request.id,
                                             staff_id=kim.id, text="Me too",
                                             origin=Origin.MIRROR, actor=actor)
        await conversations.transfer(session=session, handoff_id=request.id,
                                     to_staff_id=kim.id, actor=actor)
        assert request.taken_by_id == kim.id
        await conversations.resolve(session=session, handoff_id=request.id,
                                    staff_id=kim.id, actor=actor)
        with pytest.raises(Conflict, match="resolved"):
            await conversations.agent_reply(session=session, handoff_id=request.id,
                                             staff_id=kim.id, text="One more thing",
                                             origin=Origin.CONSOLE, actor=actor)


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_two_agents_taking_at_once_one_wins_and_the_other_is_told_who(shop):
    async with shop.transaction() as session:
        sam = await factories.user(session, "sam@example.com", role=Role.SUPPORT)
        kim = await factories.user(session, "kim@example.com", role=Role.SUPPORT)
        request, _ = await _open(session, "ann")
        ids = request.id, sam.id, kim.id
    handoff_id, sam_id, kim_id = ids
    both_in = asyncio.Barrier(2)

    async def take(staff_id: int, email: str) -> str:
        try:
            async with shop.transaction() as session:
                await both_in.wait()  # two sessions, two connections, at the same moment
                await conversations.take(session=session, handoff_id=handoff_id,
                                         staff_id=staff_id,
                                         actor=Actor(Channel.ADMIN, user_id=staff_id))
                return "won"
        except Conflict as refused:
            return refused.message

    results = sorted(await asyncio.gather(take(sam_id, "sam"), take(kim_id, "kim")))
    assert results[1] == "won"
    assert results[0] in ("sam@example.com has already taken it.",
                          "kim@example.com has already taken it.")


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
@pytest.mark.parametrize("first", ["shopper", "desk"])
async def test_a_message_said_while_the_mirror_is_set_reaches_the_thread_once(shop, first):
    """The Slack desk posts a handoff, then sets the mirror and queues what was said since
    the post (bot/channels/slack/desk.py). A shopper's message whose transaction overlaps
    that one must end up in exactly one of the two: that batch, or core's own mirroring."""
    async with shop.transaction() as session:
        request, _ = await _open(session, "ann")
        handoff_id = request.id
    key = "slack:C0SUPPORT1:1700000000.000100"
    shopper_in, desk_in, commit = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def shopper() -> None:
        if first == "desk":
            await desk_in.wait()
        async with shop.transaction() as session:
            await conversations.record_shopper_message(session=session, handoff_id=handoff_id,
                                                       text="Are you there?")
            shopper_in.set()
            await commit.wait()  # the turn goes on (its reply, the chat's state) meanwhile

    async def desk() -> list[str]:
        if first == "shopper":
            await shopper_in.wait()
        async with shop.transaction() as session:
            await conversations.set_mirror(session=session, handoff_id=handoff_id,
                                           mirror_key=key)
            desk_in.set()
            if first == "desk":
                await asyncio.sleep(0.3)  # the shopper's message is on its way meanwhile
            missed = await conversations.transcript(session=session, handoff_id=handoff_id)
            return [entry.text for entry in missed]

    tasks = asyncio.gather(shopper(), desk())
    await asyncio.sleep(0.5)   # both are as far as they can get
    commit.set()
    _, missed = await tasks
    async with shop.transaction() as session:
        queued = [outbox.opened(m.payload, shop.vault)["text"] for m in await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_key == key))]
    shown = [text for text in missed + queued if "Are you there?" in text]
    assert len(shown) == 1, (missed, queued)


async def test_only_the_holder_or_an_admin_can_transfer_a_held_conversation(shop):
    async with shop.transaction() as session:
        sam = await factories.user(session, "sam@example.com", role=Role.SUPPORT)
        kim = await factories.user(session, "kim@example.com", role=Role.SUPPORT)
        boss = await factories.user(session, "boss@example.com", role=Role.ADMIN)
        request, _ = await _open(session, "ann")
        await conversations.take(session=session, handoff_id=request.id, staff_id=sam.id,
                                 actor=Actor(Channel.ADMIN, user_id=sam.id))
        for to in (kim.id, boss.id):  # to themselves, or on to someone else
            with pytest.raises(Conflict, match="sam@example.com holds this conversation"):
                await conversations.transfer(session=session, handoff_id=request.id,
                                             to_staff_id=to,
                                             actor=Actor(Channel.ADMIN, user_id=kim.id))
        assert request.taken_by_id == sam.id
        await conversations.transfer(session=session, handoff_id=request.id,
                                     to_staff_id=kim.id,
                                     actor=Actor(Channel.ADMIN, user_id=boss.id))
        assert request.taken_by_id == kim.id
        moved = await session.scalar(select(AuditEvent).where(
            AuditEvent.action == "support.handoff_transferred"))
        assert moved is not None and moved.actor_user_id == boss.id
        assert moved.data == {"from": sam.id, "to": kim.id, "reassigned_by_admin": True}
