"""Web push the notification service queued (`push:notice-<delivery id>`): the notice is
opened from its delivery row, encrypted to the subscription's keys (aes128gcm, RFC 8291)
and posted to its push service with the shop's VAPID signature (RFC 8292), through
pywebpush's aiohttp variant, so no thread is held while a push service answers.

What the push service says decides what happens next:
- 201/202: sent;
- 404/410: the subscription no longer exists: it is ended (nothing more goes to it),
  this notice is given up, logged `notify.push_gone`;
- 429, 5xx, a timeout or the network: FAILED, the outbox tries again later;
- any other answer (400, 413, a redirect): given up, logged with the reason.
Endpoints are capability URLs: logs show the push service's host only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import urlsplit

import aiohttp
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from bot import logs
from bot.channels.delivery import Outcome
from bot.messages import Reply
from bot.push_resolver import PrivateAddress, PublicResolver
from core.notifications import push
from core.notifications import service as notifications
from core.notifications.events import Channel
from core.notifications.kinds import KINDS
from core.notifications.vapid import keys_in
from core.shop import Shop

log = logging.getLogger("chatcart.notice_push")
TTL = 2 * 24 * 3600       # seconds a push service keeps a notice for a browser that is off
TIMEOUT = 10.0
IN_FLIGHT = 8             # pushes under way at once (and connections held)
TITLE, BODY = 120, 240    # characters shown: a lock screen shows little more


def subject(shop: Shop) -> str:
    """VAPID's contact: VAPID_SUBJECT, else the mail sender, else the public address."""
    settings = shop.settings
    if settings.vapid_subject:
        return settings.vapid_subject
    sender = getattr(shop.mailer, "sender", None)
    if isinstance(sender, str) and "@" in sender:
        return f"mailto:{sender}"
    if settings.base_url.startswith("https://"):
        return settings.base_url
    return f"mailto:no-reply@{settings.public_base_url.host or 'localhost'}"


def _short(text: str, limit: int) -> str:
    """The first line (a receipt's items and address stay in the chat), cut at a word."""
    line = text.strip().split("\n", 1)[0].strip()
    if len(line) <= limit:
        return line
    return line[:limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def payload(notice: dict[str, object]) -> str:
    """What the service worker shows (bot/channels/webchat_static/push-worker.js)."""
    return json.dumps({"title": _short(str(notice.get("title") or ""), TITLE),
                       "body": _short(str(notice.get("body") or ""), BODY),
                       "url": "/chat"})


class NoticePush:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        keys = keys_in(shop.settings.data_dir)
        self.vapid = Vapid.from_pem(keys.private_pem)
        self.subject = subject(shop)
        self.gate = asyncio.Semaphore(IN_FLIGHT)
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            connector = aiohttp.TCPConnector(
                resolver=PublicResolver(self.shop.settings.push_allow_local),
                limit=IN_FLIGHT)
            self._http = aiohttp.ClientSession(connector=connector)
        return self._http

    async def send(self, chat_id: str, answers: list[Reply]) -> Outcome:
        _kind, _sep, number = chat_id.partition("-")
        if not number.isdigit():
            return Outcome.UNDELIVERABLE
        delivery_id = int(number)
        async with self.shop.sessions() as session:
            notice = await notifications.sealed_for(session=session, delivery_id=delivery_id,
                                                    vault=self.shop.vault)
            target = None
            if notice and str(notice.get("to", "")).isdigit():
                target = await push.opened(session=session, subscription_id=int(notice["to"]),
                                           vault=self.shop.vault)
            wanted = bool(notice) and await notifications.still_wanted(
                session=session, content=notice or {}, channel=Channel.PUSH)
        if notice and target and not wanted:  # turned off while it waited
            logs.event(log, "notify.withdrawn", kind=notice.get("kind"), channel="push",
                       delivery=delivery_id)
            await self._done(delivery_id)
            return Outcome.UNDELIVERABLE
        if not notice or not target:  # unsubscribed or gone since it was queued
            logs.event(log, "notify.push_skipped", delivery=delivery_id,
                       reason="sent already" if not notice else "subscription ended")
            await self._done(delivery_id)
            return Outcome.UNDELIVERABLE
        host = urlsplit(str(target["endpoint"])).hostname or "?"
        kind = KINDS.get(str(notice.get("kind")))
        try:
            async with self.gate:
                await webpush_async(
                    {"endpoint": target["endpoint"],
                     "keys": {"p256dh": target["p256dh"], "auth": target["auth"]}},
                    data=payload(notice), vapid_private_key=self.vapid,
                    vapid_claims={"sub": self.subject}, ttl=TTL,
                    headers={"Urgency": "high" if kind and kind.urgent else "normal"},
                    timeout=aiohttp.ClientTimeout(total=TIMEOUT),
                    aiohttp_session=_NoRedirects(self._session()))
        except WebPushException as error:
            status = getattr(error.response, "status", None)
            return await self._refused(delivery_id, int(notice["to"]), host, status)
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, PrivateAddress):
                await self._gone(delivery_id, int(notice["to"]), host, "private address")
                return Outcome.UNDELIVERABLE
            return self._failed(delivery_id, host, type(error).__name__)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            return self._failed(delivery_id, host, type(error).__name__)
        await self._done(delivery_id)
        logs.event(log, "notify.push_sent", delivery=delivery_id, host=host)
        return Outcome.SENT

    async def _refused(self, delivery_id: int, subscription_id: int, host: str,
                       status: int | None) -> Outcome:
        if status in (404, 410):
            await self._gone(delivery_id, subscription_id, host, f"{status} from push service")
            return Outcome.UNDELIVERABLE
        if status is None or status == 429 or status >= 500:
            return self._failed(delivery_id, host, f"status {status}")
        logs.event(log, "notify.push_refused", logging.WARNING, delivery=delivery_id,
                   host=host, reason=f"{status} from push service")
        await self._done(delivery_id)
        return Outcome.UNDELIVERABLE

    async def _gone(self, delivery_id: int, subscription_id: int, host: str,
                    reason: str) -> None:
        logs.event(log, "notify.push_gone", logging.WARNING, delivery=delivery_id,
                   subscription=subscription_id, host=host, reason=reason)
        async with self.shop.transaction() as session:
            await push.gone(session=session, subscription_id=subscription_id, reason=reason)
            await notifications.done(session=session, delivery_id=delivery_id)

    def _failed(self, delivery_id: int, host: str, reason: str) -> Outcome:
        logs.event(log, "notify.push_failed", logging.WARNING, delivery=delivery_id,
                   host=host, reason=reason)
        return Outcome.FAILED

    async def _done(self, delivery_id: int) -> None:
        async with self.shop.transaction() as session:
            await notifications.done(session=session, delivery_id=delivery_id)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


class _NoRedirects:
    """The session as pywebpush uses it (`post`), never following a redirect: a push
    service has no reason to send one, and following it would bypass the endpoint check."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def post(self, url: str, **options: object) -> aiohttp.ClientResponse:
        return await self.session.post(url, allow_redirects=False, **options)  # type: ignore[arg-type]
