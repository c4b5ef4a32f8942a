"""Which shared-file URLs the Slack channel fetches, and how far it reads them."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.channels.slack.files import SlackFiles
from bot.messages import MAX_UPLOAD

API = "http://127.0.0.1:8123/api/"
GOOD = "https://files.slack.com/files-pri/T0SHOP-F01/download/mug.jpg"


def _file(url: str, size: int = 1000, **extra: object) -> dict[str, object]:
    return {"id": "F01", "url_private_download": url, "size": size, **extra}


@pytest.mark.parametrize("url", [
    GOOD,
    "http://127.0.0.1:8123/files-pri/T0SHOP-F01/download/mug.jpg",  # SLACK_API_BASE's origin
])
def test_slacks_file_host_and_the_api_bases_host_are_fetched(url: str):
    assert SlackFiles("xoxb-t", API).url_of(_file(url)) is not None


@pytest.mark.parametrize("url", [
    "http://files.slack.com/files-pri/T0SHOP-F01/mug.jpg",         # not https
    "https://files.slack.com:8443/files-pri/T0SHOP-F01/mug.jpg",   # another port
    "https://files.slack.com.evil.example/mug.jpg",
    "https://evil.example/files.slack.com/mug.jpg",
    "https://files.slack.com@evil.example/mug.jpg",
    "https://evil.example\\@files.slack.com/mug.jpg",
    "https://user:pw@files.slack.com/mug.jpg",
    "https://files.slack.com/ mug.jpg",
    "https://fíles.slack.com/mug.jpg",
    "http://127.0.0.1:8124/files-pri/T0SHOP-F01/mug.jpg",          # the API base's host, not port
    "http://localhost:8123/files-pri/T0SHOP-F01/mug.jpg",
    "file:///etc/passwd",
    "https://files.slack.com/" + "a" * 3000,
    "",
])
def test_any_other_url_is_refused(url: str):
    assert SlackFiles("xoxb-t", API).url_of(_file(url)) is None


@pytest.mark.parametrize("file", [None, "F01", [GOOD], {"id": "F01"},
                                  {"url_private_download": 7},
                                  _file(GOOD, mode="tombstone"),
                                  _file(GOOD, mode="hidden_by_limit")])
def test_a_file_without_a_usable_url_is_refused(file: object):
    assert SlackFiles("xoxb-t", None).url_of(file) is None


def _files(handler) -> tuple[SlackFiles, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return await handler(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record), follow_redirects=False)
    return SlackFiles("xoxb-t", None, client=client), seen


async def test_the_token_goes_to_slacks_host_and_a_redirect_is_not_followed():
    async def redirect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "https://evil.example/steal"})
    files, seen = _files(redirect)
    assert await files.fetch([_file(GOOD)]) == ()
    assert [str(r.url) for r in seen] == [GOOD]
    assert seen[0].headers["Authorization"] == "Bearer xoxb-t"


async def test_a_file_said_or_found_to_be_too_large_is_not_kept():
    async def huge(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * (MAX_UPLOAD + 1))
    files, seen = _files(huge)
    (said,) = await files.fetch([_file(GOOD, size=MAX_UPLOAD + 1)])
    assert said.too_large and not said.data and seen == []
    (found,) = await files.fetch([_file(GOOD, size=10)])
    assert found.too_large and not found.data and len(seen) == 1


async def test_at_most_three_files_of_a_message_are_fetched():
    async def small(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"img")
    files, seen = _files(small)
    fetched = await files.fetch([_file(GOOD)] * 5)
    assert [u.data for u in fetched] == [b"img"] * 3 and len(seen) == 3


async def test_a_host_that_never_finishes_is_given_up(monkeypatch: pytest.MonkeyPatch):
    async def stuck(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, content=b"late")
    monkeypatch.setattr("bot.channels.slack.files.DEADLINE", 0.05)
    files, _seen = _files(stuck)
    assert await files.fetch([_file(GOOD)]) == ()
