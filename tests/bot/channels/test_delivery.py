"""The sender: order per chat, the platforms' pace, 429s waited out, failures retried,
and a chat that hangs holding up nobody else.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.channels.delivery import Job, Limits, Outcome, RetryAfter, Sender, Undeliverable
from bot.channels.pacing import SharedPacing

QUICK = Limits(per_chat_rate=1000, per_chat_burst=1000, global_rate=10000, max_attempts=3,
               backoff_cap=0.01)


def recorder(log: list[tuple[str, str, float]], chat: str, text: str) -> Job:
    async def call() -> None:
        log.append((chat, text, time.monotonic()))
    return Job(call, "send")


async def test_messages_go_out_in_order_at_the_chats_pace():
    sent: list[tuple[str, str, float]] = []
    sender = Sender("test", Limits(per_chat_rate=10, per_chat_burst=2, global_rate=1000))
    started = time.monotonic()
    sender.submit("a", [recorder(sent, "a", str(n)) for n in range(6)])
    assert await sender.drain(5)
    assert [text for _, text, _ in sent] == ["0", "1", "2", "3", "4", "5"]
    # two at once (the burst), then one every 0.1 s
    assert sent[1][2] - started < 0.05
    assert sent[-1][2] - started >= 0.35


async def test_the_whole_bot_is_held_to_the_global_pace():
    sent: list[tuple[str, str, float]] = []
    sender = Sender("test", Limits(per_chat_rate=100, per_chat_burst=100, global_rate=20))
    started = time.monotonic()
    for chat in range(30):
        sender.submit(str(chat), [recorder(sent, str(chat), "hi")])
    assert await sender.drain(5)
    assert len(sent) == 30
    assert sent[-1][2] - started >= 0.45  # 20 at once, then 10 more at 20 a second


async def test_a_429_pauses_that_chat_for_the_time_given_and_the_message_is_not_lost():
    attempts: list[float] = []

    async def limited() -> None:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise RetryAfter(0.3)

    sent: list[tuple[str, str, float]] = []
    sender = Sender("test", QUICK)
    sender.submit("a", [Job(limited, "send"), recorder(sent, "a", "after")])
    assert await sender.drain(5)
    assert len(attempts) == 2 and attempts[1] - attempts[0] >= 0.29
    assert [text for _, text, _ in sent] == ["after"]
    assert sender.given_up == 0


async def test_failures_are_retried_then_given_up_without_blocking_the_rest():
    tries = {"flaky": 0, "dead": 0, "blocked": 0}

    async def flaky() -> None:
        tries["flaky"] += 1
        if tries["flaky"] < 3:
            raise ConnectionError("reset")

    async def dead() -> None:
        tries["dead"] += 1
        raise TimeoutError

    async def blocked() -> None:
        tries["blocked"] += 1
        raise Undeliverable("bot was blocked by the user")

    sent: list[tuple[str, str, float]] = []
    sender = Sender("test", QUICK)
    sender.submit("a", [Job(flaky, "send"), Job(dead, "send"), Job(blocked, "send"),
                        recorder(sent, "a", "last")])
    assert await sender.drain(5)
    assert tries == {"flaky": 3, "dead": 3, "blocked": 1}
    assert sender.given_up == 2 and sent[0][1] == "last"


async def test_a_hanging_chat_does_not_hold_up_the_others():
    release = asyncio.Event()

    async def hang() -> None:
        await release.wait()

    sent: list[tuple[str, str, float]] = []
    sender = Sender("test", QUICK)
    sender.submit("slow", [Job(hang, "send"), recorder(sent, "slow", "later")])
    sender.submit("quick", [recorder(sent, "quick", "now")])
    await asyncio.sleep(0.05)
    assert sent and sent[0][:2] == ("quick", "now")
    assert not await sender.drain(0.05)  # the slow chat is still waiting
    release.set()
    assert await sender.drain(1)
    assert [text for _, text, _ in sent] == ["now", "later"]


async def test_close_reports_what_could_not_be_sent(caplog):
    async def hang() -> None:
        await asyncio.sleep(10)

    sender = Sender("test", QUICK)
    sender.submit("a", [Job(hang, "send")])
    await sender.close(0.05)
    assert "delivery.unsent_at_shutdown" in caplog.text


async def test_close_stops_a_worker_whose_cancellation_was_swallowed():
    """A library on the way turned the cancellation into a network error once: the worker
    must still stop, not send the rest of its queue at the platform's pace."""
    sent: list[str] = []
    swallowed = False

    async def send(text: str) -> None:
        nonlocal swallowed
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            if swallowed:
                raise
            swallowed = True
            raise ConnectionError("cancelled mid-request") from None
        sent.append(text)

    sender = Sender("test", Limits(per_chat_rate=20, per_chat_burst=1, global_rate=1000,
                                   max_attempts=5, backoff_cap=0.01))
    outcome = sender.submit("a", [Job(lambda n=n: send(str(n)), "send") for n in range(50)])
    started = time.monotonic()
    await sender.close(0.2)
    assert time.monotonic() - started < 1, "close waited for the whole queue"
    assert swallowed and 0 < len(sent) < 10
    gone = len(sent)
    await asyncio.sleep(0.3)
    assert len(sent) == gone, "nothing is sent after close"
    assert await outcome == Outcome.FAILED


@pytest.mark.redis
async def test_processes_sending_for_one_bot_share_its_pace_through_redis(redis_server):
    """Two senders (two processes) on one Redis keep the bot's pace together: 5 a second
    in all, not 5 each. Alone, each would have sent its 10 in about a second."""
    limits = Limits(per_chat_rate=100, per_chat_burst=100, global_rate=5)
    first, second = (Sender("test", limits, SharedPacing(redis_server.url, "shared-test",
                                                          limits)) for _ in range(2))
    sent: list[tuple[str, str, float]] = []
    started = time.monotonic()
    for n in range(10):
        first.submit(f"a{n}", [recorder(sent, f"a{n}", "hi")])
        second.submit(f"b{n}", [recorder(sent, f"b{n}", "hi")])
    assert await first.drain(15) and await second.drain(15)
    took = sent[-1][2] - started
    assert len(sent) == 20 and took >= 2.5, f"20 messages at 5 a second took {took:.2f} s"
    per_second: dict[int, int] = {}
    for _, _, moment in sent:
        per_second[int(moment - started)] = per_second.get(int(moment - started), 0) + 1
    assert max(per_second.values()) <= 6, per_second  # a moving window: never far over


async def test_without_redis_answering_a_process_keeps_its_own_pace(caplog):
    """A Redis that takes connections and never answers costs the first message its
    timeout; then the process paces alone for a while instead of waiting on every one."""
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    limits = Limits(per_chat_rate=10, per_chat_burst=2, global_rate=1000)
    sender = Sender("test", limits, SharedPacing(f"redis://127.0.0.1:{port}", "down-test",
                                                 limits))
    sent: list[tuple[str, str, float]] = []
    started = time.monotonic()
    try:
        sender.submit("a", [recorder(sent, "a", str(n)) for n in range(6)])
        sender.submit("b", [recorder(sent, "b", str(n)) for n in range(6)])
        assert await sender.drain(15)
    finally:
        silent.close()
    assert [text for chat, text, _ in sent if chat == "a"] == [str(n) for n in range(6)]
    took = sent[-1][2] - started
    assert 1.2 <= took < 3.0, f"one Redis timeout, then local pacing: took {took:.2f} s"
    assert caplog.text.count("delivery.shared_pace_failed") <= 2
