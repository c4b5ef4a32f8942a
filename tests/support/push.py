"""A push service on loopback, as a browser vendor's would be: it takes the shop's POST to
a subscription's endpoint, checks its VAPID signature (RFC 8292: `Authorization: vapid
t=<JWT signed ES256>, k=<public key>`) against the key the shop serves to pages, and
decrypts the aes128gcm body (RFC 8291) with the subscription's private key and auth
secret, which only the "browser" holds: `browser()` makes them as a browser would.
A test can make a subscription answer 410 (expired) or any other status.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """One browser's subscription: what `PushSubscription.toJSON()` gives the page."""

    name: str
    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    def to_json(self) -> dict[str, Any]:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": b64(point), "auth": b64(self.auth)}}


@dataclass
class Push:
    """A push the service accepted: to whom, what it decrypted to, and its headers."""

    browser: str
    message: dict[str, Any]
    ttl: int
    urgency: str | None
    claims: dict[str, Any]


class PushService:
    def __init__(self) -> None:
        self.browsers: dict[str, Browser] = {}
        self.received: list[Push] = []
        self.attempts: list[str] = []         # every POST, by browser name, even refused
        self.refusals: list[tuple[str, int, str]] = []
        self.answer: dict[str, int] = {}       # browser name -> the status it gets
        self.vapid_key = ""                    # the applicationServerKey pages were given
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> PushService:
        app = web.Application(client_max_size=8192)
        app.router.add_post("/push/{name}", self._push)
        app.router.add_post("/push/{name}/moved", self._moved)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def browser(self) -> Browser:
        name = f"b{len(self.browsers) + 1}-{secrets.token_hex(8)}"
        self.browsers[name] = Browser(name, f"{self.url}/push/{name}")
        return self.browsers[name]

    def _refuse(self, name: str, status: int, why: str) -> web.Response:
        self.refusals.append((name, status, why))
        return web.Response(status=status, text=why)

    def _claims(self, authorization: str) -> dict[str, Any] | str:
        """The JWT's claims when the VAPID header is sound, else what is wrong."""
        scheme, _, rest = authorization.partition(" ")
        parts = dict(item.strip().split("=", 1) for item in rest.split(",") if "=" in item)
        if scheme != "vapid" or set(parts) != {"t", "k"}:
            return "not a vapid t=..., k=... header"
        if parts["k"] != self.vapid_key:
            return "signed by a key the page did not subscribe with"
        head, body, signature = (parts["t"] + "..").split(".")[:3]
        if json.loads(unb64(head)) != {"typ": "JWT", "alg": "ES256"}:
            return "not an ES256 JWT"
        raw = unb64(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(parts["k"]))
        try:
            public.verify(encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:])),
                          f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return "bad signature"
        claims = json.loads(unb64(body))
        if claims.get("aud") != self.url:
            return f"audience {claims.get('aud')!r} is not this service"
        if not time.time() < int(claims.get("exp", 0)) <= time.time() + 24 * 3600:
            return "expiry not within 24 hours"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
            return "no contact in sub"
        return dict(claims)

    async def _push(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.attempts.append(name)
        browser = self.browsers.get(name)
        if browser is None:
            return self._refuse(name, 404, "no such subscription")
        if name in self.answer:
            status = self.answer[name]
            if 300 <= status < 400:  # a redirect a sender must not follow
                self.refusals.append((name, status, "redirected"))
                return web.Response(status=status, headers={
                    "Location": f"{self.url}/push/{name}/moved"})
            return self._refuse(name, status, "told to")
        claims = self._claims(request.headers.get("Authorization", ""))
        if isinstance(claims, str):
            return self._refuse(name, 403, claims)
        if request.headers.get("Content-Encoding") != "aes128gcm" or "TTL" not in request.headers:
            return self._refuse(name, 400, "needs Content-Encoding: aes128gcm and a TTL")
        try:
            plain = http_ece.decrypt(await request.read(), private_key=browser.key,
                                     auth_secret=browser.auth, version="aes128gcm")
        except Exception as error:  # noqa: BLE001 - any failure to decrypt is the sender's
            return self._refuse(name, 400, f"cannot decrypt: {error}")
        self.received.append(Push(name, json.loads(plain), int(request.headers["TTL"]),
                                  request.headers.get("Urgency"), claims))
        return web.Response(status=201)

    async def _moved(self, request: web.Request) -> web.Response:
        self.attempts.append(request.match_info["name"] + "/moved")
        return web.Response(status=201)

    def to(self, browser: Browser) -> list[Push]:
        return [push for push in self.received if push.browser == browser.name]

    async def wait_for(self, count: int, seconds: float = 10) -> list[Push]:
        for _ in range(int(seconds * 20)):
            if len(self.received) >= count:
                break
            await asyncio.sleep(0.05)
        return self.received

    async def wait_attempts(self, count: int, seconds: float = 10) -> list[str]:
        for _ in range(int(seconds * 20)):
            if len(self.attempts) >= count:
                break
            await asyncio.sleep(0.05)
        return self.attempts
