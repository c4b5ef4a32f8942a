"""The background jobs: the sweeper (unpaid orders expire, old rows go) and the relay
(queued messages out to Telegram and Slack), with the Redis wakeups between processes.

`chatcart serve` runs them in the serving process by default (the one-process shape);
`chatcart worker` runs them on their own for the scale-out shape, where the serving
processes start with `--no-jobs`. Several of either are safe: expiry is conditional and
each outbox message is leased to one deliverer (SKIP LOCKED on PostgreSQL; SQLite has one
writer anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from redis.asyncio import Redis

from bot import heap, logs
from bot.channels.delivery import Limits, Outcome
from bot.mail_channel import MailChannel
from bot.messages import Reply
from bot.notice_push import NoticePush
from bot.notice_sms import SMS_PLATFORM, NoticeSms
from bot.relay import Relay
from bot.sweeper import run_forever as sweeper_loop
from core.config import Settings
from core.notifications.events import Channel
from core.shop import Shop
from core.support.conversations import EMAIL_PLATFORM

log = logging.getLogger("chatcart.jobs")


class Sending(Protocol):
    def send(self, chat_id: str, answers: list[Reply]) -> Awaitable[Outcome]: ...
    async def close(self) -> None: ...


def deliver_through(channels: Mapping[str, Sending]
                    ) -> Callable[[str, str, list[Reply]], Awaitable[Outcome] | None]:
    def deliver(platform: str, chat_id: str, answers: list[Reply]) -> Awaitable[Outcome] | None:
        channel = channels.get(platform)
        return channel.send(chat_id, answers) if channel is not None else None
    return deliver


def start(shop: Shop, relay: Relay, sweep_seconds: float,
          beat: Callable[[], None] | None = None) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(sweeper_loop(shop, sweep_seconds, beat), name="sweeper"),
            asyncio.create_task(relay.run_forever(), name="relay")]


def start_desk(slack: Any) -> asyncio.Task[None]:
    """The Slack support channel's posting of handoffs (bot/channels/slack/desk.py)."""
    assert slack.desk is not None
    return asyncio.create_task(slack.desk.run_forever(), name="slack-desk")


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def sending_channels(settings: Settings, limits: Limits | None) -> dict[str, Sending]:
    """The platforms this shop sends to, as channels that only send (no pipeline)."""
    found: dict[str, Sending] = {}
    if settings.telegram_bot_token:
        from bot.channels.telegram.channel import TelegramChannel
        found["telegram"] = TelegramChannel(settings, None, limits)
    if settings.slack_bot_token:
        from bot.channels.slack.channel import SlackChannel
        found["slack"] = SlackChannel(settings, None, limits)
    return found


async def run_worker(settings: Settings, sweep_seconds: float = 30.0,
                     limits: Limits | None = None, stopping: asyncio.Event | None = None,
                     heartbeat: Path | None = None, settle_heap: bool = False) -> None:
    """`chatcart worker`: the jobs alone, until SIGTERM/SIGINT (or `stopping` is set).
    `heartbeat` is touched after every sweep whose unpaid-order expiry worked (a failing
    purge or nudge step is logged and skipped: bot/sweeper.py) while the relay's rounds
    work too, for a health check to watch; `settle_heap` once started (bot/heap.py)."""
    from bot.wakeups import Wakeups

    stopping = stopping or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stopping.set)
    shop = Shop.from_settings(settings)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    channels = sending_channels(settings, limits)
    channels[EMAIL_PLATFORM] = MailChannel(shop)  # support answers, order notices
    channels[SMS_PLATFORM] = NoticeSms(shop)  # order notices by SMS (TWILIO_*)
    channels[Channel.PUSH.value] = NoticePush(shop)  # web push (push:notice-<id>)
    relay = Relay(shop, deliver_through(channels), list(channels))
    # The newsroom too: the Slack desk hears of a request made in a serving process.
    wakeups = Wakeups(redis, [lambda keys: relay.wake()], shop.newsroom)
    shop.commit_listeners.append(wakeups.committed)
    slack = channels.get("slack")
    desk = getattr(slack, "open_desk", lambda shop: None)(shop)
    def beat() -> None:  # after a sweep whose expiry worked, only while the relay works too
        if heartbeat is not None and relay.healthy:
            heartbeat.touch()
    tasks = [*start(shop, relay, sweep_seconds, beat),
             asyncio.create_task(wakeups.listen(), name="wakeups")]
    if desk is not None:
        tasks.append(start_desk(slack))
    if settle_heap:
        heap.settle()
    logs.event(log, "worker.start", platforms=", ".join(channels) or "none",
               redis="on" if redis else "off")
    try:
        await stopping.wait()
    finally:
        shop.commit_listeners.remove(wakeups.committed)
        relay.claiming = False  # then what is queued goes out, then it is marked
        for channel in channels.values():
            with contextlib.suppress(Exception):
                await channel.close()
        await relay.settle(5)
        await stop(tasks)
        if redis is not None:
            await redis.aclose()
        await shop.close()
        logs.event(log, "worker.stop")
