"""Limits per client on the web chat, beside the per-chat flood guard (bot/sessions/flood.py):
a script that starts a fresh chat for every message is held back by its address, not by
its chats.

A client is its address as uvicorn gives it, after the proxy headers it trusts
(`FORWARDED_ALLOW_IPS`); an IPv6 client is its /64, because one home or phone is given a
whole /64 and counting single addresses would give it 2^64 allowances.

The defaults are for a shop whose shoppers may share one address: an office, a school or
a mobile carrier's NAT puts many people behind one IPv4 address.
- New chats, 30 a minute: a shopper keeps their chat across reloads (the page keeps its
  token), so a new chat is a new browser; thirty in one minute is an office of hundreds
  all opening the shop at once, while a script is held to one every two seconds.
- Messages, 600 a minute: a person sends one every few seconds at most, so this is a
  hundred people behind one address chatting briskly together, while a single address
  is held to about 2% of what one process answers (574 turns a second, `make bench`).
- Open polls, 50 per address and 1,000 per process: each open chat page holds one. A
  refused poll loses nothing (queued replies wait in the outbox and the page asks again
  after `Retry-After`), so the cap only slows news down for the fifty-first tab. A
  thousand waiting polls cost a socket each and a database look every ten seconds each
  (100 a second in all), well inside one process.
Counts of new chats and messages are kept in fixed one-minute windows, in Redis when
there is one (every process counts together), else in this process; open polls are
counted per process, which is what they would exhaust. A refused request changes nothing.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from redis.asyncio import Redis

from bot import logs
from bot.sessions.windows import Windows
from core.config import Settings
from core.i18n import _
from core.slots import Full, Slots

log = logging.getLogger("chatcart.webchat")
WINDOW = 60  # seconds


def client_key(host: str | None) -> str:
    """What one client is counted as: its IPv4 address, or its IPv6 /64."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]  # a test transport's name, a unix socket
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass(frozen=True, slots=True)
class Refusal:
    message: str
    retry_after: int  # seconds


class ClientLimits:
    def __init__(self, settings: Settings, redis: Redis | None = None) -> None:
        self.new_chats = settings.webchat_new_chats_per_minute
        self.messages = settings.webchat_messages_per_minute
        self._windows = Windows(redis, WINDOW, "chatcart:webchat-client")
        self.polls = Slots(settings.webchat_polls_per_client, settings.webchat_polls_per_process)

    async def admit(self, client: str, new_chat: bool, locale: str | None) -> Refusal | None:
        """Count a message (and a new chat when it starts one) from `client`; a refusal
        when the client is over either limit."""
        counted: list[tuple[str, int]] = []
        if self.messages:
            counted.append(("messages", self.messages))
        if new_chat and self.new_chats:
            counted.append(("new_chats", self.new_chats))
        if not counted:
            return None
        counts = await self._windows.add(*(f"{kind}:{client}" for kind, _limit in counted))
        for (kind, limit), count in zip(counted, counts, strict=True):
            if count <= limit:
                continue
            if count == limit + 1:  # once a window: a flood must not flood the log too
                logs.event(log, "webchat.client_limited", logging.WARNING, client=client,
                           limit=kind, per_minute=limit)
            if kind == "new_chats":
                return Refusal(_("Too many new chats have started from your network in the "
                                 "last minute. Please wait a minute, then try again.",
                                 locale=locale), self._windows.seconds_left())
            return Refusal(_("Too many messages are coming from your network right now. "
                             "Please wait a minute, then try again.", locale=locale),
                           self._windows.seconds_left())
        return None

    def poll_refused(self, client: str, locale: str | None) -> Refusal | None:
        """None when `client` may hold another poll open (give it back with
        `poll_done`); else why not."""
        full = self.polls.take(client)
        if full is None:
            return None
        if full is Full.ALL:
            return Refusal(_("The shop is very busy right now. New replies will reach you "
                             "in a few seconds.", locale=locale), 5)
        return Refusal(_("Too many chats are open from your network right now. New replies "
                         "will reach you in a few seconds.", locale=locale), 5)

    def poll_done(self, client: str) -> None:
        self.polls.give_back(client)
