"""Sending to a platform within its limits, in order per chat, never dropping a reply.

Each chat has a queue and, while it has work, one worker task: a chat's messages go
out one after another in the order they were queued, and a chat whose API calls are
slow or failing holds up nobody else. The pacing (bot/channels/pacing.py: per chat and
for the whole bot, shared by every process through Redis) keeps the platform's pace; a
429 pauses that chat for the time the platform gives; other failures are retried with
backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot import logs
from bot.channels.pacing import Limits, LocalPacing, Pacing

log = logging.getLogger("chatcart.delivery")


class RetryAfter(Exception):
    """The platform said: too many requests, try again in `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = max(0.0, float(seconds))


class Undeliverable(Exception):
    """Retrying cannot help: this message is refused (a 400 for its markup, too long), or,
    with `gone`, the chat itself cannot be reached (the person blocked the bot, the chat
    or account no longer exists)."""

    def __init__(self, reason: str, gone: bool = False) -> None:
        super().__init__(reason)
        self.gone = gone


@dataclass(frozen=True, slots=True)
class Job:
    """One API call. `paced` calls count against the message limits (a callback answer does not)."""

    call: Callable[[], Awaitable[Any]]
    what: str
    paced: bool = True


class Outcome(StrEnum):
    """How a batch of calls ended, for a caller that must know (the outbox relay)."""
    SENT = "sent"
    FAILED = "failed"                # not sent (retries ran out, or the sender closed first)
    UNDELIVERABLE = "undeliverable"  # refused for good, but the chat is still there
    GONE = "gone"                    # the person blocked the bot, the chat is gone


@dataclass(slots=True)
class _Batch:
    left: int
    outcome: Outcome = Outcome.SENT
    done: asyncio.Future[Outcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())

    def finish(self, outcome: Outcome) -> None:
        if outcome is Outcome.GONE or (outcome is not Outcome.SENT
                                       and self.outcome is Outcome.SENT):
            self.outcome = outcome  # the first failure counts, a gone chat above all
        self.left -= 1
        if self.left <= 0 and not self.done.done():
            self.done.set_result(self.outcome)


class Sender:
    def __init__(self, platform: str, limits: Limits | None = None,
                 pacing: Pacing | None = None) -> None:
        self.platform = platform
        self.limits = limits or Limits()
        self.pacing = pacing or LocalPacing(self.limits)
        self._queues: dict[str, deque[tuple[Job, _Batch]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self.closed = False
        self._stopped = False  # past close()'s wait: workers end at their next step
        self.sent = 0
        self.given_up = 0

    def submit(self, chat: str, jobs: list[Job]) -> asyncio.Future[Outcome]:
        """Queue a turn's calls for a chat; returns at once (the work happens in the
        background) with a future of how they went, for callers that wait on it."""
        batch = _Batch(len(jobs))
        if not jobs or self.closed:  # after close(), nothing more goes out from here
            batch.done.set_result(Outcome.FAILED if self.closed else Outcome.SENT)
            return batch.done
        self._queues.setdefault(chat, deque()).extend((job, batch) for job in jobs)
        self._idle.clear()
        if chat not in self._workers:
            self._workers[chat] = asyncio.create_task(self._work(chat), name=f"send:{chat}")
        return batch.done

    async def drain(self, seconds: float = 10.0) -> bool:
        """Wait until everything queued is sent (or given up); False on timeout."""
        return await _within(self._idle, seconds)

    async def close(self, seconds: float = 5.0) -> None:
        """Send what is queued for up to `seconds`, then stop. Workers are cancelled and
        also told to stop: a library on the way may turn the cancellation into a network
        error (a retry), and a worker carrying on would hold shutdown for as long as its
        queue takes at the platform's pace (seen: minutes, with hundreds queued)."""
        self.closed = True
        if not await self.drain(seconds):
            left = sum(len(q) for q in self._queues.values())
            logs.event(log, "delivery.unsent_at_shutdown", logging.WARNING,
                       platform=self.platform, messages=left)
        self._stopped = True
        for task in list(self._workers.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for queue in self._queues.values():  # whoever waits learns these never went
            for _, batch in queue:
                batch.finish(Outcome.FAILED)
        self._queues.clear()

    async def _work(self, chat: str) -> None:
        queue = self._queues[chat]
        try:
            while queue and not self._stopped:
                job, batch = queue[0]
                outcome = await self._deliver(chat, job)
                queue.popleft()
                batch.finish(outcome)
        finally:
            del self._workers[chat]
            if not queue:
                self._queues.pop(chat, None)
            if not self._workers:
                self._idle.set()

    async def _deliver(self, chat: str, job: Job) -> Outcome:
        failures = 0
        while not self._stopped:
            if job.paced:
                await self.pacing.take(chat)
            try:
                await job.call()
                self.sent += 1
                return Outcome.SENT
            except RetryAfter as wait:
                logs.event(log, "delivery.rate_limited", platform=self.platform, chat=chat,
                           call=job.what, seconds=wait.seconds)
                await asyncio.sleep(wait.seconds)
            except Undeliverable as reason:
                self.given_up += 1
                logs.event(log, "delivery.undeliverable", logging.WARNING,
                           platform=self.platform, chat=chat, call=job.what, reason=str(reason),
                           gone=reason.gone)
                return Outcome.GONE if reason.gone else Outcome.UNDELIVERABLE
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - network, 5xx, timeouts: retry
                failures += 1
                if failures >= self.limits.max_attempts:
                    self.given_up += 1
                    logs.event(log, "delivery.gave_up", logging.ERROR, platform=self.platform,
                               chat=chat, call=job.what, error=type(exc).__name__)
                    return Outcome.FAILED
                pause = min(self.limits.backoff_cap, 0.5 * 2 ** (failures - 1))
                pause *= random.uniform(0.8, 1.2)
                logs.event(log, "delivery.retry", logging.WARNING, platform=self.platform,
                           chat=chat, call=job.what, error=type(exc).__name__,
                           attempt=failures, pause=round(pause, 2))
                await asyncio.sleep(pause)
        return Outcome.FAILED  # the sender stopped: not sent


class InFlight:
    """Counts a channel's turns under way, so shutdown (and a test) can wait for them to
    queue their replies before the sender is closed."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def __enter__(self) -> None:
        self._count += 1
        self._idle.clear()

    def __exit__(self, *exc: object) -> None:
        self._count -= 1
        if not self._count:
            self._idle.set()

    async def idle(self, seconds: float = 10.0) -> bool:
        return await _within(self._idle, seconds)


async def _within(event: asyncio.Event, seconds: float) -> bool:
    """Whether `event` is set within `seconds`."""
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False
    return True
