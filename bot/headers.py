"""Security headers on every response of `chatcart serve`.

The web chat page, its scripts, /media and /healthz had none: the shop page could be
framed and its pay buttons clickjacked. A response that brings its own policy (the
console's strict CSP, the payment pages') keeps it, and is only told it may not be
framed if it did not say. HSTS goes on everything when the public address is https.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Images may come from anywhere https (imported catalogs link them); nothing else may.
POLICY = ("default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
          "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
          "form-action 'self'; frame-ancestors 'none'")
HSTS = "max-age=31536000"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app, self.https = app, https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                policy = headers.get("content-security-policy")
                if policy is None:
                    headers["Content-Security-Policy"] = POLICY
                elif "frame-ancestors" not in policy:
                    headers["Content-Security-Policy"] = f"{policy}; frame-ancestors 'none'"
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if self.https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, add_headers)
