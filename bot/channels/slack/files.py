"""Fetching a file a shopper shared in a direct message (a return's photo).

A `file_share` event names the file by URL, and the event is the sender's to write:
the URL is treated as hostile. It is fetched only over https from Slack's own file host
(or from SLACK_API_BASE's host, where a test double or a proxy serves the Web API), with
the bot token, without following redirects (the token goes nowhere else), within a
timeout, and read as a stream that stops at MAX_UPLOAD bytes. What the bytes are is not
taken from Slack's `mimetype` or the response's Content-Type: the return dialog runs
them through the catalog's `check_image`, which reads the type from the bytes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from bot import logs
from bot.messages import MAX_UPLOAD, Upload

log = logging.getLogger("chatcart.slack")
FILE_HOST = "files.slack.com"
MAX_FILES = 3        # a message's files fetched at most (a return takes three photos)
MAX_URL = 2048
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEADLINE = 30.0      # a whole download, however slowly the bytes trickle in
UNUSABLE_MODES = {"tombstone", "hidden_by_limit", "external"}


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)


class SlackFiles:
    """Downloads shared files with the bot token, from the hosts allowed."""

    def __init__(self, token: str, api_base: str | None,
                 client: httpx.AsyncClient | None = None) -> None:
        self.token = token
        self.allowed = {("https", FILE_HOST, 443)}
        if api_base:
            self.allowed.add(_origin(httpx.URL(api_base)))
        self._client = client

    @property
    def client(self) -> httpx.AsyncClient:
        """Made at the first download: a sending-only channel (the worker) never needs it.
        No proxies from the environment, as slack_sdk's own client (trust_env False)."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False,
                                             trust_env=False)
        return self._client

    def url_of(self, file: object) -> httpx.URL | None:
        """The file's download URL when it may be fetched, else None."""
        if not isinstance(file, dict) or file.get("mode") in UNUSABLE_MODES:
            return None
        raw = file.get("url_private_download") or file.get("url_private")
        if not isinstance(raw, str) or not raw.isascii() or len(raw) > MAX_URL or any(
                c.isspace() or c == "\\" for c in raw):
            return None
        try:
            url = httpx.URL(raw)
        except (httpx.InvalidURL, ValueError):
            return None
        if url.userinfo or _origin(url) not in self.allowed:
            return None
        return url

    async def fetch(self, files: object) -> tuple[Upload, ...]:
        """The usable files among a message's `files`, at most MAX_FILES, one at a time."""
        if not isinstance(files, list):
            return ()
        fetched: list[Upload] = []
        for file in files[:MAX_FILES]:
            upload = await self.fetch_one(file)
            if upload is not None:
                fetched.append(upload)
        return tuple(fetched)

    async def fetch_one(self, file: object) -> Upload | None:
        url = self.url_of(file)
        if url is None:
            logs.event(log, "slack.file_refused", logging.WARNING,
                       host=_host(file), reason="no URL on Slack's file host")
            return None
        assert isinstance(file, dict)
        size = file.get("size")
        if isinstance(size, int) and not isinstance(size, bool) and size > MAX_UPLOAD:
            return Upload(b"", too_large=True)  # Slack says so: not fetched at all
        try:
            async with asyncio.timeout(DEADLINE):
                return await self._download(url)
        except (httpx.HTTPError, TimeoutError) as problem:
            logs.event(log, "slack.file_failed", logging.WARNING,
                       reason=type(problem).__name__)
            return None

    async def _download(self, url: httpx.URL) -> Upload | None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                logs.event(log, "slack.file_failed", logging.WARNING,
                           status=response.status_code)
                return None
            length = response.headers.get("Content-Length", "")
            if length.isdecimal() and int(length) > MAX_UPLOAD:
                return Upload(b"", too_large=True)
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_UPLOAD:
                    return Upload(b"", too_large=True)  # stop reading: the rest stays there
            return Upload(bytes(data))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _host(file: Any) -> str:
    """Where a refused file pointed, for the log (the host only, never the path)."""
    raw = file.get("url_private_download") if isinstance(file, dict) else None
    try:
        return httpx.URL(raw).host[:100] if isinstance(raw, str) else "-"
    except (httpx.InvalidURL, ValueError):
        return "?"
