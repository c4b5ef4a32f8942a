"""SMS through Twilio: the notices the service queued (`sms:notice-<delivery id>`, the text
sealed on the delivery row) and the operator's test (`chatcart notify test --to PHONE`).

The official library with its aiohttp client (`create_async`), so a slow Twilio never
blocks the relay; each request is bounded in time, and a few go at once per process.
Twilio's answer decides what happens to the message:
- a 400 (an invalid number, 21211; a number that answered STOP, 21610): given up, logged
  as `notify.sms_refused` with Twilio's code and message. On 21610 the consent of the
  message's holders to that number is withdrawn (audited, actor system), so later news
  does not try again;
- a 429, a 5xx, no answer: tried again by the outbox with its backoff. The outbox has no
  Retry-After, and the library does not hand the header over, so it is not honoured;
- a 401 (or 403, 404): the credentials, account or API base are wrong; an ERROR line says
  so, and the messages wait (the outbox's tries: about 1.7 hours).
Numbers are masked in logs (Twilio's messages quote them); the token is never logged.

`text_code` texts the code that proves a number before SMS consent
(core.notifications.sms_codes): sent by the chat's turn right after it commits, not through
the outbox (see its docstring).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from enum import StrEnum

import aiohttp
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot import logs
from bot.channels.delivery import Outcome
from bot.messages import Reply
from core.audit.actor import Actor
from core.clock import now
from core.config import Settings
from core.notifications import preferences
from core.notifications import service as notifications
from core.notifications.events import Channel
from core.notifications.phones import masked
from core.shop import Shop

log = logging.getLogger("chatcart.notice_sms")
TIMEOUT = 15.0     # seconds for one request to Twilio, connecting included
AT_ONCE = 4        # requests to Twilio under way at once from one process
API = "https://api.twilio.com"
SMS_PLATFORM = Channel.SMS.value  # the outbox key's platform: `sms:notice-<delivery id>`
UNSUBSCRIBED = 21610  # Twilio: the recipient replied STOP to this sender
_NUMBER = re.compile(r"\+?\d[\d ().-]{5,}\d")


class Trouble(StrEnum):
    REFUSED = "refused"          # this message, for good (a 4xx): give it up
    CREDENTIALS = "credentials"  # the account's SID or token (401/403), no such account or
                                 # API there (404): the operator's to fix, not the message
    BUSY = "busy"                # 429: later
    DOWN = "down"                # 5xx, timeout, no connection: later


@dataclass
class SmsFailed(Exception):
    trouble: Trouble
    status: int | None
    code: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.status or ''} {self.code or ''} {self.message}".strip()


def scrubbed(text: str) -> str:
    """`text` with every phone number in it masked (Twilio's 21211 message quotes it)."""
    return _NUMBER.sub(lambda found: masked(re.sub(r"[^\d+]", "", found.group())), text)


def _trouble(status: int) -> Trouble:
    if status in (401, 403, 404):
        return Trouble.CREDENTIALS
    if status == 429:
        return Trouble.BUSY
    return Trouble.REFUSED if 400 <= status < 500 else Trouble.DOWN


class TwilioSms:
    """One Twilio client per process; its HTTP session opens at the first message."""

    def __init__(self, settings: Settings) -> None:
        assert settings.sms_enabled, "TWILIO_* are not set"
        self.settings = settings
        self.base = (settings.twilio_api_base or API).rstrip("/")
        self._client: Client | None = None
        self._http: AsyncTwilioHttpClient | None = None
        self._at_once = asyncio.Semaphore(AT_ONCE)

    def _ready(self) -> Client:
        if self._client is None:
            # The library's own timeout is not applied to async requests: the session's is.
            self._http = AsyncTwilioHttpClient(pool_connections=False)
            self._http.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT))
            client = Client(self.settings.twilio_account_sid, self.settings.twilio_auth_token,
                            http_client=self._http)
            client.edge = client.region = None  # settings are read once, by core.config
            client.api.base_url = self.base
            self._client = client
        return self._client

    async def send(self, to: str, text: str) -> str:
        """Send `text` to `to` (E.164); returns Twilio's message SID, or raises SmsFailed."""
        sender = self.settings.twilio_from or ""
        origin = ({"messaging_service_sid": sender} if sender.startswith("MG")
                  else {"from_": sender})
        messages = self._ready().api.v2010.account.messages
        try:
            async with self._at_once:
                message = await messages.create_async(to=to, body=text, **origin)
        except TwilioException as error:
            status = int(getattr(error, "status", 0) or 0)
            message_text = str(getattr(error, "msg", "") or getattr(error, "detail", "")
                               or getattr(error, "title", "") or type(error).__name__)
            message_text = message_text.removeprefix("Unable to create record: ")
            raise SmsFailed(_trouble(status) if status else Trouble.DOWN, status or None,
                            getattr(error, "code", None), scrubbed(message_text)) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise SmsFailed(Trouble.DOWN, None, None,
                            f"{type(error).__name__}: {error}"[:200]) from None
        return str(message.sid)

    async def close(self) -> None:
        http, self._http, self._client = self._http, None, None
        if http is not None and http.session is not None:
            await http.session.close()


class NoticeSms:
    """The relay's channel for `sms:` outbox keys."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.twilio = TwilioSms(shop.settings) if shop.settings.sms_enabled else None

    async def send(self, chat_id: str, answers: list[Reply]) -> Outcome:
        kind, _, number = chat_id.partition("-")
        if kind != notifications.NOTICE_MAIL or not number.isdigit():
            return Outcome.UNDELIVERABLE
        delivery = int(number)
        async with self.shop.sessions() as session:
            sms = await notifications.sealed_for(session=session, delivery_id=delivery,
                                                 vault=self.shop.vault)
            wanted = bool(sms) and await notifications.still_wanted(
                session=session, content=sms or {}, channel=Channel.SMS)
        if not sms or not sms.get("to") or not sms.get("text"):
            return Outcome.UNDELIVERABLE
        if not wanted:  # consent withdrawn, or another number agreed, while it waited
            logs.event(log, "notify.withdrawn", kind=sms.get("kind"), channel="sms",
                       delivery=delivery)
            await self._done(delivery)
            return Outcome.UNDELIVERABLE
        to = str(sms["to"])
        if self.twilio is None:  # consent given, but this shop sends no SMS (TWILIO_* unset)
            logs.event(log, "notify.sms_off", logging.WARNING, delivery=delivery,
                       note="TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM unset")
            await self._done(delivery)
            return Outcome.UNDELIVERABLE
        try:
            sid = await self.twilio.send(to, str(sms["text"]))
        except SmsFailed as failed:
            return await self._failed(delivery, to, failed, sms.get("holders"))
        logs.event(log, "notify.sms_sent", delivery=delivery, to=masked(to), sid=sid)
        await self._done(delivery)
        return Outcome.SENT

    async def _failed(self, delivery: int, to: str, failed: SmsFailed, holders: object = None
                      ) -> Outcome:
        fields = {"delivery": delivery, "to": masked(to), "status": failed.status,
                  "code": failed.code, "reason": failed.message[:160]}
        if failed.trouble is Trouble.CREDENTIALS:
            logs.event(log, "notify.sms_credentials", logging.ERROR, **fields,
                       note="Twilio refused TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN (or has no "
                            "such account at TWILIO_API_BASE): fix them; SMS are tried again")
            return Outcome.FAILED
        if failed.trouble is Trouble.REFUSED:
            logs.event(log, "notify.sms_refused", logging.WARNING, **fields)
            await self._done(delivery)
            if failed.code == UNSUBSCRIBED:
                await self._unsubscribed(delivery, to, holders)
            return Outcome.UNDELIVERABLE
        logs.event(log, "notify.sms_failed", logging.WARNING, **fields)
        return Outcome.FAILED

    async def _unsubscribed(self, delivery: int, to: str, holders: object) -> None:
        """The number told Twilio STOP: its holders' consent to it is withdrawn."""
        async with self.shop.transaction() as session:
            withdrawn = await preferences.withdraw_number(
                session=session, holder=holders if isinstance(holders, (str, list)) else None,
                phone_e164=to,
                vault=self.shop.vault, actor=Actor.system("twilio"), at=now())
        logs.event(log, "notify.sms_consent_withdrawn", delivery=delivery, to=masked(to),
                   holders=withdrawn, reason="stop")

    async def _done(self, delivery_id: int) -> None:
        async with self.shop.transaction() as session:
            await notifications.done(session=session, delivery_id=delivery_id)

    async def close(self) -> None:
        if self.twilio is not None:
            await self.twilio.close()


async def text_code(settings: Settings, to: str, text: str) -> bool:
    """Text a consent code (core.notifications.sms_codes) to `to`, at once; True if Twilio
    took it. Called by the chat's turn after it committed (`turn.after_commit`), not queued
    in the outbox: the code works for ten minutes while the shopper waits in the chat, so
    the outbox's retries over hours would only deliver dead codes, and a queued message
    would keep the code itself (sealed) in the database, where only its hash is. If it
    fails the shopper asks for a new code. Never logs the code or the full number."""
    if not settings.sms_enabled:
        return False
    twilio = TwilioSms(settings)
    try:
        sid = await twilio.send(to, text)
    except SmsFailed as failed:
        logs.event(log, "notify.sms_code_failed", logging.WARNING, to=masked(to),
                   status=failed.status, code=failed.code, reason=failed.message[:160])
        return False
    finally:
        await twilio.close()
    logs.event(log, "notify.sms_code_sent", to=masked(to), sid=sid)
    return True
