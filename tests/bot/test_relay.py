"""The relay marks each queued message by how its delivery went: sent, tried again later,
or given up; a message for a platform this process cannot reach is left to one that can."""

import asyncio

from sqlalchemy import select, update

from bot import jobs
from bot.channels.delivery import Outcome
from bot.messages import Reply
from bot.relay import Relay
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage


class Platform:
    """A channel double: answers each send with the next outcome it was given."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes, self.sent = list(outcomes), []

    def deliver(self, platform: str, chat_id: str, answers: list[Reply]):
        self.sent.append((platform, chat_id, [a.text for a in answers]))
        done = asyncio.get_running_loop().create_future()
        done.set_result(self.outcomes.pop(0))
        return done


async def _states(shop) -> dict[str, tuple[bool, bool, int]]:
    async with shop.transaction() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return {m.chat_key: (m.sent_at is not None, m.gave_up_at is not None, m.attempts)
                for m in rows}


async def test_each_message_is_marked_by_how_its_delivery_went(shop):
    async with shop.transaction() as session:
        for key in ("telegram:1", "telegram:2", "telegram:3", "slack:C1", "web:abcdefgh"):
            await outbox.enqueue(session=session, chat_key=key, text=f"hello {key}",
                                 buttons=[[{"label": "Menu", "action": "menu"}]])
    platform = Platform(Outcome.SENT, Outcome.FAILED, Outcome.UNDELIVERABLE)
    relay = Relay(shop, platform.deliver, ["telegram"])
    assert await relay.once() == 3
    await asyncio.gather(*relay._settling)
    assert platform.sent[0] == ("telegram", "1", ["hello telegram:1"])
    assert await _states(shop) == {
        "telegram:1": (True, False, 1),     # sent
        "telegram:2": (False, False, 1),    # back in the queue, after a pause
        "telegram:3": (False, True, 1),     # blocked the bot: given up
        "slack:C1": (False, False, 0),      # no Slack here: left for a process that has it
        "web:abcdefgh": (False, False, 0),  # web chats collect theirs themselves
    }
    assert await relay.once() == 0, "the failed one waits for its pause"


async def test_a_slow_delivery_keeps_its_lease_so_nobody_sends_it_twice(shop, monkeypatch):
    from datetime import timedelta
    monkeypatch.setattr(outbox, "LEASE", timedelta(seconds=0.3))
    async with shop.transaction() as session:
        await outbox.enqueue(session=session, chat_key="telegram:5", text="Order confirmed")
    slow = asyncio.get_running_loop().create_future()
    first = Relay(shop, lambda platform, chat, answers: slow, ["telegram"])
    second = Platform(Outcome.SENT)
    other = Relay(shop, second.deliver, ["telegram"])
    assert await first.once() == 1
    for _ in range(6):  # two leases' time: still held while the delivery is under way
        await asyncio.sleep(0.1)
        assert await other.once() == 0
    slow.set_result(Outcome.SENT)
    await asyncio.gather(*first._settling)
    assert second.sent == [] and (await _states(shop))["telegram:5"] == (True, False, 1)


async def test_a_closed_sender_fails_what_it_held_and_takes_nothing_more():
    from bot.channels.delivery import Job, Sender

    hung = asyncio.Event()
    sender = Sender("telegram")
    queued = sender.submit("1", [Job(hung.wait, "sendMessage"), Job(hung.wait, "sendMessage")])
    await sender.close(seconds=0.1)
    assert await queued is Outcome.FAILED
    assert await sender.submit("1", [Job(hung.wait, "sendMessage")]) is Outcome.FAILED


async def test_the_workers_heartbeat_stops_when_its_relay_keeps_failing(
        shop, settings, tmp_path, monkeypatch):
    """The health check watches a file the worker touches after each sweep that worked;
    a relay whose rounds all fail (the outbox unreadable) must stop it too."""
    monkeypatch.setattr(Relay, "INTERVAL", 0.02)  # a look every 20 ms, stale after 0.3 s
    monkeypatch.setattr(Relay, "STALE", 0.3)
    heartbeat = tmp_path / "alive"
    stopping = asyncio.Event()
    worker = asyncio.create_task(jobs.run_worker(settings, sweep_seconds=0.05,
                                                 stopping=stopping, heartbeat=heartbeat))

    async def beats(seconds: float) -> int:
        seen = set()
        for _ in range(int(seconds / 0.05)):
            await asyncio.sleep(0.05)
            if heartbeat.exists():
                seen.add(heartbeat.stat().st_mtime_ns)
        return len(seen)

    try:
        assert await beats(1.0) >= 5, "a healthy worker keeps beating"

        async def broken(self: Relay) -> int:
            raise RuntimeError("the outbox cannot be read")

        monkeypatch.setattr(Relay, "once", broken)
        await asyncio.sleep(0.5)  # past STALE
        assert await beats(1.0) <= 1, "no beat while the relay fails"
    finally:
        stopping.set()
        await asyncio.wait_for(worker, 15)


async def test_a_message_no_key_of_this_shop_opens_is_given_up_and_the_rest_go_on(shop):
    async with shop.transaction() as session:
        lost = await outbox.enqueue(session=session, chat_key="telegram:8", text="lost")
        await outbox.enqueue(session=session, chat_key="telegram:9", text="Order confirmed")
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == lost.id)
                              .values(payload={"sealed": "gAAAAAB-sealed-with-an-old-key"}))
    platform = Platform(Outcome.SENT)
    relay = Relay(shop, platform.deliver, ["telegram"])
    assert await relay.once() == 2
    await asyncio.gather(*relay._settling)
    assert platform.sent == [("telegram", "9", ["Order confirmed"])]
    assert await _states(shop) == {"telegram:8": (False, True, 1), "telegram:9": (True, False, 1)}
