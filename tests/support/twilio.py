"""A Twilio double on loopback: the Messages API's path, form fields and HTTP basic auth,
and Twilio's answers (201 with a message resource, 400 with its error JSON, 401, 429, 5xx).

It runs in a thread of its own (like aiosmtpd's Controller), so a test that waits on a
subprocess (the CLI) is answered too. It keeps what it received, auth included.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiohttp import web

from tests.support.servers import free_port

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f" * 32
FROM = "+14155550100"
PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


@dataclass(frozen=True)
class Sent:
    account: str
    to: str
    sender: str | None            # From
    service: str | None           # MessagingServiceSid
    body: str
    auth: tuple[str, str]         # what the basic auth said (only right ones are kept)


def _error(status: int, code: int, message: str, detail: str | None = None
           ) -> web.Response:
    """Twilio's error body, as its API sends it."""
    body = {"code": code, "message": message, "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}
    return web.json_response({**body, "detail": detail} if detail else body, status=status)


@dataclass
class TwilioDouble:
    sid: str = ACCOUNT_SID
    token: str = AUTH_TOKEN
    port: int = 0
    received: list[Sent] = field(default_factory=list)
    invalid: set[str] = field(default_factory=set)        # To numbers answered 400 21211
    unsubscribed: set[str] = field(default_factory=set)   # To numbers answered 400 21610
    busy: int = 0      # the next this many requests are answered 429
    broken: int = 0    # the next this many requests are answered 503
    requests: int = 0  # every request that reached the double, whatever the answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {"TWILIO_ACCOUNT_SID": self.sid, "TWILIO_AUTH_TOKEN": self.token,
                "TWILIO_FROM": FROM, "TWILIO_API_BASE": self.url}

    def _auth(self, request: web.Request) -> tuple[str, str] | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return None
        ok = (secrets.compare_digest(user, self.sid)
              and secrets.compare_digest(password, self.token))
        return (user, password) if ok else None

    async def messages(self, request: web.Request) -> web.Response:
        self.requests += 1
        auth = self._auth(request)
        if auth is None or request.match_info["sid"] != self.sid:
            return _error(401, 20003, "Authenticate",
                          "Your AccountSid or AuthToken was incorrect.")
        if self.busy:
            self.busy -= 1
            return _error(429, 20429, "Too Many Requests")
        if self.broken:
            self.broken -= 1
            return _error(503, 20500, "Service Unavailable")
        form = await request.post()
        to, body = str(form.get("To", "")), str(form.get("Body", ""))
        sender, service = form.get("From"), form.get("MessagingServiceSid")
        if not to or not body or not (sender or service):
            return _error(400, 21604 if not to else 21602, "A 'To', 'Body' and 'From' "
                          "or 'MessagingServiceSid' are required.")
        if to in self.invalid or not to.startswith("+"):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.unsubscribed:
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        self.received.append(Sent(request.match_info["sid"], to, str(sender) if sender
                                  else None, str(service) if service else None, body, auth))
        message = "SM" + secrets.token_hex(16)
        return web.json_response({
            "sid": message, "account_sid": self.sid, "to": to,
            "from": str(sender) if sender else None,
            "messaging_service_sid": str(service) if service else None, "body": body,
            "status": "queued", "num_segments": "1", "direction": "outbound-api",
            "api_version": "2010-04-01", "price": None, "price_unit": "USD",
            "error_code": None, "error_message": None,
            "date_created": "Thu, 03 Dec 2026 17:00:00 +0000",
            "date_updated": "Thu, 03 Dec 2026 17:00:00 +0000", "date_sent": None,
            "uri": f"/2010-04-01/Accounts/{self.sid}/Messages/{message}.json",
            "subresource_uris": {}}, status=201)

    async def wait_for(self, count: int, seconds: float = 10) -> list[Sent]:
        for _ in range(int(seconds * 20)):
            if len(self.received) >= count:
                break
            await asyncio.sleep(0.05)
        return list(self.received)


@contextmanager
def twilio_server() -> Iterator[TwilioDouble]:
    """The double, listening on a free loopback port until the block ends."""
    double = TwilioDouble(port=free_port())
    app = web.Application()
    app.router.add_post(PATH.format(sid="{sid}"), double.messages)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", double.port).start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="twilio-double", daemon=True)
    thread.start()
    assert ready.wait(10), "the Twilio double did not start"
    try:
        yield double
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
