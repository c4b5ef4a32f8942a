"""The web chat's session is a credential the server issues (DESIGN.md): a guessed, old,
forged or foreign id reads nothing and starts a new chat; a poll shows the token in a
header or the page's cookie, never in the address; one shopper's poll never takes
another's confirmation; neither the database nor the access log holds a token."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.channels.chat_tokens import ChatTokens
from core.outbox import service as outbox
from tests.conftest import SECRET, make_settings, new_database_url
from tests.e2e.checkout_steps import place
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper
from tests.support.at_rest import stored_as_is
from tests.support.servers import free_port

ADDRESS = "Ann Lee, 12 Rue de Rivoli"


@pytest.fixture
async def client(settings, trained):
    async with served(settings, trained) as http:
        yield http


async def _poll(client, token: str | None = None, **params: object):
    headers = {"X-Chat-Session": token} if token is not None else {}
    return await client.get("/webchat/api/messages", params={"wait": 0, **params},
                            headers=headers)


def _forged(token: str) -> str:
    """The token with its last character (part of the MAC) changed."""
    return token[:-1] + ("A" if token[-1] != "A" else "Q")


async def test_the_server_issues_the_session_and_the_chat_carries_on_under_it(client):
    first = await client.post("/webchat/api/messages", json={"text": "add 2 blue mugs"})
    assert first.status_code == 200
    token = first.json()["session"]
    assert len(token) >= 22 and ChatTokens(client.shop.settings.secret_key).chat_id(token)
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"cc_chat={token};")
    for attribute in ("HttpOnly", "Path=/", "SameSite=strict"):
        assert attribute.lower() in cookie.lower()
    assert "secure" not in cookie.lower(), "the shop is served over plain http here"
    assert first.headers["cache-control"] == "no-store"
    again = await client.post("/webchat/api/messages",
                              json={"session": token, "text": "show my cart"})
    assert again.json()["session"] == token
    assert "2 × Blue mug" in again.json()["replies"][0]["text"]
    other = await client.post("/webchat/api/messages", json={"text": "show my cart"})
    assert other.json()["session"] != token, "each new chat gets its own token"
    assert "Your cart is empty" in other.json()["replies"][0]["text"]


async def test_guessed_old_forged_and_foreign_ids_read_nothing_and_start_a_new_chat(client):
    ann = Shopper(client)
    await ann.say("add 2 blue mugs")
    old = secrets.token_hex(12)  # what the page used to choose for itself
    async with client.shop.transaction() as session:  # chats from before tokens, with news
        for chat in ("aaaaaaaa", old):
            await outbox.enqueue(session=session, chat_key=f"web:{chat}",
                                 text=f"Order CC-1 is confirmed. Ships to: {ADDRESS}")
    foreign = ChatTokens("another-shop-secret-key-0123456789abcdef").issue()
    for stolen in ["aaaaaaaa", old, ann.chat_key.removeprefix("web:"), _forged(ann.session),
                   foreign, ann.session + "\n", ann.session.upper(), "", 12345, None]:
        answer = await client.post("/webchat/api/messages",
                                   json={"session": stolen, "text": "show my cart"})
        assert answer.status_code == 200, stolen
        assert answer.json()["session"] not in (stolen, ann.session), stolen
        assert "Your cart is empty" in answer.json()["replies"][0]["text"], stolen
        if isinstance(stolen, str) and stolen and stolen.isprintable():  # fit for a header
            polled = await _poll(client, stolen)
            assert polled.status_code == 401 and "replies" not in polled.json(), stolen
    await ann.say("show my cart")
    assert "2 × Blue mug" in ann.text, "the real chat is untouched"
    async with client.shop.transaction() as session:
        kept = await outbox.claim(session=session, chat_keys=["web:aaaaaaaa", f"web:{old}"])
        assert len(kept) == 2, "nobody read the old chats' news"


async def test_a_second_shoppers_poll_never_takes_the_firsts_confirmation(client):
    ann, bob = Shopper(client), Shopper(client)
    await bob.say("hello")
    await place(ann)
    paid = await client.post(ann.payment_path(), data={"outcome": "pay"})
    assert paid.status_code == 200
    assert await bob.news(wait=0.2) == []
    ann_id = ann.chat_key.removeprefix("web:")
    client.cookies.clear()  # bob's browser has only his own cookie, and shows his header
    for attempt in [await _poll(client, ann_id), await _poll(client, _forged(ann.session)),
                    await _poll(client), await _poll(client, bob.session, session=ann.session),
                    await client.get("/webchat/api/messages", params={"session": ann_id})]:
        assert attempt.status_code in (400, 401), attempt.text
        assert "replies" not in attempt.json() and ADDRESS not in attempt.text
    (confirmation,) = await ann.news()
    assert "is confirmed" in confirmation["text"] and ADDRESS in confirmation["text"]


async def test_a_poll_shows_its_session_in_a_header_or_the_cookie_never_in_the_address(
        client):
    ann = Shopper(client)
    await ann.say("hello")
    async with client.shop.transaction() as session:
        await outbox.enqueue(session=session, chat_key=ann.chat_key, text="News for Ann.")
    in_url = await _poll(client, session=ann.session)
    assert in_url.status_code == 400 and "X-Chat-Session header" in in_url.json()["error"]
    client.cookies.clear()
    nothing = await _poll(client)
    assert nothing.status_code == 401 and "X-Chat-Session" in nothing.json()["error"]
    # The page's way: the cookie its answers set (the jar keeps the latest chat's).
    started = await client.post("/webchat/api/messages",
                                json={"session": ann.session, "text": "hello again"})
    assert started.json()["session"] == ann.session
    by_cookie = await client.get("/webchat/api/messages", params={"wait": 0})
    assert by_cookie.status_code == 200
    assert [r["text"] for r in by_cookie.json()["replies"]] == ["News for Ann."]


async def test_a_post_never_takes_its_chat_from_the_cookie(client):
    """Several shoppers may share a cookie jar; a message without "session" is a new chat."""
    ann = Shopper(client)
    await ann.say("add 2 blue mugs")
    assert client.cookies["cc_chat"] == ann.session
    stranger = await client.post("/webchat/api/messages", json={"text": "show my cart"})
    assert stranger.json()["session"] != ann.session
    assert "Your cart is empty" in stranger.json()["replies"][0]["text"]


async def test_odd_waits_are_refused_or_clamped(client):
    ann = Shopper(client)
    await ann.say("hello")
    for odd in ["nan", "NaN", "-nan", "abc", "", "1" * 40, "0x10"]:
        answer = await _poll(client, ann.session, wait=odd)
        assert answer.status_code == 400 and "wait" in answer.json()["error"], odd
    for clamped in ["-5", "-inf", "0"]:
        answer = await _poll(client, ann.session, wait=clamped)
        assert answer.status_code == 200 and answer.json() == {"replies": []}, clamped
    for long in ["inf", "1e309", "99999999"]:  # held to 25 s: news ends the wait at once
        async with client.shop.transaction() as session:
            await outbox.enqueue(session=session, chat_key=ann.chat_key, text=long)
        answer = await _poll(client, ann.session, wait=long)
        assert answer.status_code == 200 and answer.json()["replies"][0]["text"] == long


async def test_the_cookie_is_secure_when_the_shop_is_served_over_https(
        database_url, tmp_path: Path, trained):
    settings = make_settings(database_url, tmp_path / "data",
                             PUBLIC_BASE_URL="https://shop.example")
    async with served(settings, trained) as http:
        answer = await http.post("/webchat/api/messages", json={"text": "hello"})
        assert "; secure" in answer.headers["set-cookie"].lower()


async def test_the_database_holds_no_token(client):
    ann = Shopper(client)
    await place(ann)
    await client.post(ann.payment_path(), data={"outcome": "pay"})
    await ann.say("my orders")
    stored = b"\n".join(await stored_as_is(client.shop))
    assert ann.chat_key.removeprefix("web:").encode() in stored, "the chat is there, by its id"
    assert ann.session.encode() not in stored


def test_no_token_reaches_the_access_log_of_a_real_server(request, tmp_path):
    database_url = new_database_url(request, "sqlite", tmp_path)  # the log is the same on any
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    env.update(DATABASE_URL=database_url, CHATCART_DATA_DIR=str(tmp_path / "data"),
               CHATCART_SECRET_KEY=SECRET, LOG_LEVEL="INFO")
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port)],
                              env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        token = httpx.post(f"{base}/webchat/api/messages", json={"text": "hello"},
                           timeout=10).json()["session"]
        old_way = httpx.get(f"{base}/webchat/api/messages",
                            params={"session": token, "wait": 0}, timeout=10)
        assert old_way.status_code == 400
        new_way = httpx.get(f"{base}/webchat/api/messages", params={"wait": 0},
                            headers={"X-Chat-Session": token}, timeout=10)
        assert new_way.status_code == 200
        payment = secrets.token_urlsafe(24)
        for path in (f"/pay/test/{payment}", f"/pay/%74est/{payment}x",
                     f"/pay/done?order=CC-1&token=EC-{payment}&PayerID=Q"):
            httpx.get(base + path, timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=15)
    log = server.stdout.read() if server.stdout else ""
    assert '"GET /webchat/api/messages?session=***&wait=0 HTTP/1.1" 400' in log, log
    assert '"GET /webchat/api/messages?wait=0 HTTP/1.1" 200' in log
    assert '"GET /pay/test/*** HTTP/1.1" 404' in log
    assert "/pay/done?order=***&token=***&PayerID=***" in log
    for secret in (token, payment):
        assert secret not in log, log
