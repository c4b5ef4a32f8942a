"""Agents in the Slack support channel (issue 17's contract): each handoff is posted to
SLACK_SUPPORT_CHANNEL, the conversation lives in the post's thread, and its buttons take
and resolve it. Shoppers use the web chat's JSON API or Telegram's webhook; agents' events
are signed as Slack signs them; assertions read the platform doubles' calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from bot import sweeper
from bot.nlu.embedded import EmbeddedNlu
from bot.server import create_app
from core.accounts.models import Role, User
from core.audit.models import AuditEvent
from core.clock import now
from core.notifications.mail import Email
from core.nudges.models import StaffAlert
from core.outbox.models import OutboxMessage
from core.shop import Shop
from core.support import conversations
from core.support.models import HandoffRequest, HandoffStatus, Origin
from tests import factories
from tests.e2e.conftest import FAST, SLACK_SIGNING_SECRET, Platforms, channel_settings
from tests.e2e.platforms import SlackAgent, slack_text
from tests.e2e.webchat import Shopper
from tests.support.demo_copy import demo_filled
from tests.support.platforms import FakeSlack, FakeTelegram

SUPPORT = "C0SUPPORT1"
ALERTS = "C0ALERTS01"
AGENT_EMAIL = "desk@example.com"


@pytest.fixture
async def desk(database_url: str, tmp_path: Path, trained: EmbeddedNlu,
               telegram_api: FakeTelegram, slack_api: FakeSlack,
               ) -> AsyncIterator[Platforms]:
    """The demo shop with Telegram, Slack and the Slack support channel on, and one agent."""
    settings = channel_settings(database_url, tmp_path / "data", telegram_api, slack_api,
                                SLACK_SUPPORT_CHANNEL=SUPPORT, SLACK_ALERTS_CHANNEL=ALERTS)
    shop = Shop.from_settings(settings)
    await demo_filled(shop)
    async with shop.transaction() as session:
        await factories.user(session, AGENT_EMAIL, role=Role.SUPPORT)
    app = create_app(settings, shop, nlu=trained, sweep_seconds=3600, limits=FAST)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield Platforms(app, http, shop, telegram_api, slack_api)
    finally:
        await shop.close()


def agent(desk: Platforms, user: str = "U0DESK", email: str | None = AGENT_EMAIL) -> SlackAgent:
    return SlackAgent(desk.http, desk.slack, SLACK_SIGNING_SECRET, SUPPORT, desk.settle_slack,
                      user=user, email=email)


async def posted(desk: Platforms, who: SlackAgent) -> str:
    """The handoff post's ts, once the desk has recorded it as the mirror (a click that
    came before that would find no handoff behind the post)."""
    ts = await who.post()
    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:
        async with desk.shop.transaction() as session:
            if await conversations.handoff_for_mirror(
                    session=session, mirror_key=f"slack:{SUPPORT}:{ts}") is not None:
                return ts
        await asyncio.sleep(0.02)
    raise AssertionError("the post was never recorded as the handoff's mirror")


async def _status(desk: Platforms) -> HandoffStatus:
    async with desk.shop.transaction() as session:
        request = await session.scalar(select(HandoffRequest).order_by(HandoffRequest.id.desc()))
        assert request is not None
        return request.status


async def _until_in_thread(ann: SlackAgent, ts: str, words: str) -> list[str]:
    await ann.api.wait_for(lambda: any(words in said for said in ann.thread(ts)))
    return ann.thread(ts)


async def test_a_web_shopper_and_an_agent_in_the_slack_thread(desk: Platforms):
    shopper, ann = Shopper(desk.http), agent(desk)
    await shopper.say("add a blue mug")
    await shopper.say("I want to talk to a person")
    ts = await posted(desk, ann)
    post = ann.post_text(ts)
    assert "the web chat" in post and "1 × Blue mug (€12.50) = €12.50" in post
    assert "Total: €12.50 (1 item)" in post
    assert "add a blue mug" in post, "the last messages before the request"
    assert ann.buttons(ts) == ["Take", "Resolve"]

    response = await ann.reply(ts, "Hello! I'm Desk, how can I help?")
    assert response.status_code == 200
    heard = await shopper.news()
    assert any("Hello! I'm Desk, how can I help?" in r["text"] for r in heard)
    assert await _status(desk) is HandoffStatus.TAKEN
    assert not any("how can I help" in said for said in ann.thread(ts)), \
        "an agent's own words are not echoed into the thread"

    answer = await shopper.say("show me mugs")
    assert not any("mug" in r["text"].lower() for r in answer), "the bot stays silent"
    await _until_in_thread(ann, ts, "show me mugs")

    assert (await ann.press(ts, "Resolve")).status_code == 200
    assert await _status(desk) is HandoffStatus.CLOSED
    back = await shopper.news()
    assert any("back with" in r["text"] for r in back)
    answer = await shopper.say("show me mugs")
    assert any("Blue mug" in r["text"] for r in answer), "the bot answers again"
    await ann.api.wait_for(lambda: "Resolve" not in ann.buttons(ts))
    assert "Resolved" in ann.post_text(ts)


async def test_a_telegram_shopper_hears_the_agent_and_a_console_reply_shows_in_the_thread(
        desk: Platforms):
    tom, ann = desk.telegram_user(first_name="Tom"), agent(desk)
    await tom.say("I need a human")
    ts = await posted(desk, ann)
    assert "Tom" in ann.post_text(ts) and "Telegram" in ann.post_text(ts)
    await ann.press(ts, "Take")
    await ann.api.wait_for(lambda: "With" in ann.post_text(ts))
    await ann.reply(ts, "Hi Tom, your parcel left today.")
    await tom.api.wait_for(lambda: any("your parcel left today" in c.text for c in tom.mine()))
    tom.seen = len(tom.mine())

    async with desk.shop.transaction() as session:  # what the console's reply box does
        request = await conversations.handoff_for_mirror(
            session=session, mirror_key=f"slack:{SUPPORT}:{ts}")
        staff = await session.scalar(select(User).where(User.email == AGENT_EMAIL))
        await conversations.agent_reply(session=session, handoff_id=request.id,
                                        staff_id=staff.id, text="Tracking: ZX-1",
                                        origin=Origin.CONSOLE, actor=factories.ADMIN)
    await tom.api.wait_for(lambda: any("Tracking: ZX-1" in c.text for c in tom.mine()))
    await desk.settle_telegram()
    assert [c.text.count("Tracking: ZX-1") for c in tom.mine()[tom.seen:]] == [1]
    thread = await _until_in_thread(ann, ts, "Tracking: ZX-1")
    assert sum("Tracking: ZX-1" in line for line in thread) == 1, "shown once in the thread"


async def test_bots_edits_and_messages_outside_the_thread_are_ignored(desk: Platforms):
    shopper, ann = Shopper(desk.http), agent(desk)
    await shopper.say("talk to a person")
    ts = await posted(desk, ann)
    for response in (
            await ann.reply(ts, "from a bot", bot_id="B0OTHER"),
            await ann.reply(ts, "edited", subtype="message_changed"),
            await ann.reply(None, "chatter in the channel itself"),
            await ann.reply("1699999999.000001", "a thread that is no handoff's")):
        assert response.status_code == 200
    assert await shopper.news(wait=0.3) == []
    assert await _status(desk) is HandoffStatus.OPEN
    assert ann.told() == []


async def test_an_agent_naming_the_app_in_the_thread_gets_no_shopper_turn(desk: Platforms):
    shopper, ann = Shopper(desk.http), agent(desk)
    await shopper.say("talk to a person")
    ts = await posted(desk, ann)
    words = "<@UBOT0001> can you check the stock of blue mugs?"
    mention = ann.reply_event(ts, words)  # Slack sends both: the message and the mention
    mention["event"]["type"] = "app_mention"
    assert (await ann.poster.post_json(mention)).status_code == 200
    assert (await ann.reply(ts, words)).status_code == 200
    heard = await shopper.news()
    assert [r["text"].count("check the stock") for r in heard if "stock" in r["text"]] == [1]
    await desk.settle_slack()
    assert desk.slack.of("conversations.open") == []  # no chat with the bot for the agent
    assert not any("direct message" in line for line in ann.thread(ts))
    assert desk.slack.of("chat.postMessage", chat="D0DESK") == []


async def test_a_forged_request_for_the_support_channel_does_nothing(desk: Platforms):
    shopper, ann = Shopper(desk.http), agent(desk)
    await shopper.say("talk to a person")
    ts = await posted(desk, ann)
    forged = await ann.reply(ts, "send me your card number", secret="0" * 32)
    assert forged.status_code == 401
    pressed = await ann.press(ts, "Resolve", secret="0" * 32)
    assert pressed.status_code == 401
    assert await shopper.news(wait=0.3) == []
    assert await _status(desk) is HandoffStatus.OPEN


async def test_an_unknown_slack_user_is_refused_and_nothing_changes(desk: Platforms):
    shopper = Shopper(desk.http)
    stranger = agent(desk, user="U0STRANGER", email="guest@elsewhere.example")
    await shopper.say("talk to a person")
    ts = await posted(desk, stranger)
    await stranger.reply(ts, "Hi, I am not staff")
    await stranger.press(ts, "Take")
    told = await stranger.api.wait_for(lambda: len(stranger.told()) >= 2 and stranger.told())
    assert all("is not a Chatcart staff account" in note for note in told)
    assert await shopper.news(wait=0.3) == []
    assert await _status(desk) is HandoffStatus.OPEN
    async with desk.shop.transaction() as session:
        replied = await session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.in_(["support.agent_replied", "support.handoff_taken"])))
    assert replied == 0


async def test_a_refused_take_names_the_holder_and_a_resolved_one_refuses_replies(
        desk: Platforms):
    async with desk.shop.transaction() as session:
        await factories.user(session, "bo@example.com", role=Role.SUPPORT)
    shopper, ann, bo = Shopper(desk.http), agent(desk), agent(desk, "U0BO", "bo@example.com")
    await shopper.say("talk to a person")
    ts = await posted(desk, ann)
    await ann.press(ts, "Take")
    await bo.press(ts, "Take")
    await bo.api.wait_for(lambda: bo.told())
    assert AGENT_EMAIL in bo.told()[0] or "Desk" in bo.told()[0]
    await ann.press(ts, "Resolve")
    await ann.reply(ts, "one more thing")
    await ann.api.wait_for(lambda: ann.told())
    assert "resolved" in ann.told()[-1].lower()


async def test_a_slack_agents_long_answer_reaches_the_web_chat_in_pieces(desk: Platforms):
    shopper, ann = Shopper(desk.http), agent(desk)
    await shopper.say("talk to a person")
    ts = await posted(desk, ann)
    essay = ("Unscrew the lid gently, then turn it a quarter. " * 90)[:3998].strip()
    await ann.reply(ts, essay)
    heard = await shopper.news()
    assert len(heard) >= 2, "with the agent's name in front it is over one bubble's 4,000"
    assert all(len(r["text"]) <= 4000 for r in heard)
    assert " ".join(r["text"] for r in heard).split()[-len(essay.split()):] == essay.split()


async def test_a_slack_shopper_hears_the_agent_from_the_thread_and_from_the_console(
        desk: Platforms):
    shopper, ann = desk.slack_user("U0SHOPPER"), agent(desk)
    await shopper.say("I need a human please")
    ts = await posted(desk, ann)
    assert "Slack" in ann.post_text(ts) and "I need a human" in ann.post_text(ts)
    shopper.seen = len(shopper.mine())

    await ann.reply(ts, "Hi, Desk here. What can I do?")
    await desk.slack.wait_for(lambda: any("What can I do?" in slack_text(c)
                                          for c in shopper.mine()))
    heard = await shopper.say("my parcel is late")
    assert not any("parcel" in slack_text(c).lower() for c in heard), "the bot is silent"
    await _until_in_thread(ann, ts, "my parcel is late")

    async with desk.shop.transaction() as session:  # what the console's reply box does
        staff = await session.scalar(select(User).where(User.email == AGENT_EMAIL))
        await conversations.agent_reply(session=session, handoff_id=1, staff_id=staff.id,
                                        text="It ships today.", origin=Origin.CONSOLE,
                                        actor=factories.ADMIN)
    await desk.slack.wait_for(lambda: any("It ships today." in slack_text(c)
                                          for c in shopper.mine()))
    await _until_in_thread(ann, ts, "It ships today.")
    assert sum("It ships today." in slack_text(c) for c in shopper.mine()) == 1

    await ann.press(ts, "Resolve")
    await desk.slack.wait_for(lambda: any("back with" in slack_text(c)
                                          for c in shopper.mine()))
    answer = await shopper.say("show me mugs")
    assert any("Blue mug" in slack_text(c) for c in answer), "the bot answers again"


class Mailbox:
    """A mail server that is down for the first `failures` messages."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[Email] = []
        self.failures, self.tries = failures, 0

    async def send(self, email: Email) -> None:
        self.tries += 1
        if self.failures:
            self.failures -= 1
            raise OSError("the SMTP server is down")
        self.sent.append(email)


async def test_a_shopper_nobody_took_in_time_is_announced_once_by_mail_and_in_slack(
        desk: Platforms):
    async with desk.shop.transaction() as session:
        await factories.user(session, "boss@example.com", role=Role.ADMIN)
        gone = await factories.user(session, "former@example.com", role=Role.ADMIN)
        gone.is_active = False
        admins = sorted(await session.scalars(select(User.email).where(
            User.role == Role.ADMIN, User.is_active)))
    assert len(admins) == 2, "the demo's admin and the boss"
    shopper, ann = Shopper(desk.http), agent(desk)
    await shopper.say("talk to a person")
    await posted(desk, ann)
    mailbox = desk.shop.mailer = Mailbox(failures=1)  # type: ignore[assignment]
    async with desk.shop.transaction() as session:  # the wait is over
        await session.execute(update(HandoffRequest).values(
            created_at=now() - timedelta(minutes=11)))

    # Two jobs processes sweep at the same moment, then again: one announcement, sent as
    # the staff alerts' batch once its minute is over (core/nudges/staff_alerts.py).
    other = Shop.from_settings(desk.shop.settings)
    try:
        await asyncio.gather(sweeper.expire_once(desk.shop), sweeper.expire_once(other))
        await asyncio.gather(sweeper.expire_once(desk.shop), sweeper.expire_once(other))
        async with desk.shop.transaction() as session:
            await session.execute(update(StaffAlert).where(StaffAlert.sent_at.is_(None))
                                  .values(created_at=now() - timedelta(minutes=2)))
        await asyncio.gather(sweeper.nudge_once(desk.shop), sweeper.nudge_once(other))
        await asyncio.gather(sweeper.nudge_once(desk.shop), sweeper.nudge_once(other))
    finally:
        await other.close()
    call = await desk.slack.wait_for(lambda: next(iter(desk.slack.of(
        "chat.postMessage", chat=ALERTS)), None))
    assert "waiting for a person" in slack_text(call) and "(conversations 1)" in slack_text(call)
    assert "/admin/handoffs" in slack_text(call)
    await desk.slack.wait_for(lambda: mailbox.tries >= 2)
    assert len(mailbox.sent) == 1, "the server was down for the first mail"

    async with desk.shop.transaction() as session:  # the pause before the next try is over
        await session.execute(update(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                              .values(next_attempt_at=now()))
    desk.app.state.relay.wake()
    await desk.slack.wait_for(lambda: len(mailbox.sent) >= 2)
    await asyncio.sleep(0.3)
    await sweeper.expire_once(desk.shop)
    await sweeper.nudge_once(desk.shop)
    desk.app.state.relay.wake()
    await asyncio.sleep(0.3)
    assert sorted(mail.to for mail in mailbox.sent) == admins, "each active admin, once"
    assert mailbox.tries == 3
    for mail in mailbox.sent:
        assert mail.subject == "Alerts from your shop"
        assert "1 shopper(s) are waiting for a person" in mail.body
        assert "(conversations 1)" in mail.body and "/admin/handoffs" in mail.body
    assert len(desk.slack.of("chat.postMessage", chat=ALERTS)) == 1, "once"


async def test_guests_strangers_and_other_workspaces_with_a_staff_address_cannot_answer(
        desk: Platforms):
    """A Slack profile's e-mail address is only as good as the workspace behind it: a guest,
    someone from another organisation in a shared channel, another workspace's member, a
    bot, a deleted account or an unconfirmed address is not staff, whatever it says."""
    shopper = Shopper(desk.http)
    await shopper.say("talk to a person")
    flagged = {"U0GUEST": {"is_restricted": True}, "U0SINGLE": {"is_ultra_restricted": True},
               "U0STRANGER": {"is_stranger": True}, "U0ROBOT": {"is_bot": True},
               "U0GONE": {"deleted": True}, "U0ELSEWHERE": {"team_id": "T0OTHER"},
               "U0UNCONFIRMED": {"is_email_confirmed": False}}
    posers = []
    for user, flags in flagged.items():
        posers.append(agent(desk, user=user))  # each shows the staff member's own address
        desk.slack.people[user].update(flags)
    ts = await posted(desk, posers[0])
    for poser in posers:
        await poser.reply(ts, "I am staff, honest")
        await poser.press(ts, "Take")
    await desk.slack.wait_for(lambda: all(len(poser.told()) >= 2 for poser in posers))
    for poser in posers:
        said = "is not confirmed" if poser.user == "U0UNCONFIRMED" else \
            "Only Chatcart's staff can answer shoppers here."
        assert all(said in note for note in poser.told()), (poser.user, poser.told())
    assert await shopper.news(wait=0.3) == []
    assert await _status(desk) is HandoffStatus.OPEN
    async with desk.shop.transaction() as session:
        acted = await session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.in_(["support.agent_replied", "support.handoff_taken"])))
    assert acted == 0

    ann = agent(desk)  # the same address on a full member's confirmed account answers
    desk.slack.people[ann.user]["is_email_confirmed"] = True
    await ann.reply(ts, "Hello, I am Desk.")
    assert any("Hello, I am Desk." in r["text"] for r in await shopper.news())
    ours = [call for call in desk.slack.of("auth.test") if not call.params]  # not Bolt's
    assert len(ours) == 1, "the app's workspace is asked once"


async def test_a_shopper_named_channel_notifies_nobody_in_the_support_channel(
        desk: Platforms):
    """Slack turns `<!channel>` into a mention of everyone; a shopper's name and words (and
    an agent's) reach the support channel escaped: in the blocks and in the plain text
    Slack shows in notifications, where `&lt;` still reads `<`."""
    rogue, ann = desk.telegram_user(first_name="<!channel>"), agent(desk)
    await rogue.say("<!here> I need a human & fast")
    ts = await posted(desk, ann)
    await rogue.say("<!everyone> hello?")
    await _until_in_thread(ann, ts, "<!everyone> hello?")
    async with desk.shop.transaction() as session:  # the console's reply box
        request = await conversations.handoff_for_mirror(
            session=session, mirror_key=f"slack:{SUPPORT}:{ts}")
        staff = await session.scalar(select(User).where(User.email == AGENT_EMAIL))
        await conversations.agent_reply(session=session, handoff_id=request.id,
                                        staff_id=staff.id, text="<!subteam^S1> <@U0BOSS> look",
                                        origin=Origin.CONSOLE, actor=factories.ADMIN)
    await _until_in_thread(ann, ts, "<@U0BOSS> look")
    await ann.press(ts, "Resolve")
    await desk.slack.wait_for(lambda: "Resolved" in ann.post_text(ts))
    await desk.settle_slack()
    sent = desk.slack.of("chat.postMessage", "chat.update", "chat.postEphemeral",
                         chat=SUPPORT)
    headline = desk.slack.of("chat.postMessage", chat=SUPPORT)[0].text
    assert headline.startswith("&lt;!channel&gt;") and "asks for a person" in headline
    assert "<!channel>" in ann.post_text(ts).replace("&lt;", "<").replace("&gt;", ">")
    assert len(sent) >= 5  # the post, the thread's entries, the status updates
    for call in sent:
        shown = str(call.params.get("text", "")) + str(call.params.get("blocks", ""))
        assert "<!" not in shown and "<@" not in shown, (call.method, shown[:300])
