"""A shopper's name and address never lie in the database in plain text (issue 16, item 8):
an order's confirmation quotes them, and waits in the outbox until the web chat comes
back for it, so it is sealed there. Read as an attacker with a copy of the files would:
the SQLite database and its WAL byte by byte, PostgreSQL's tables as stored; and the
logs of the whole journey."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from core.outbox import service as outbox
from tests.e2e.checkout_steps import place
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper
from tests.support.at_rest import stored_as_is

# What the FR address of checkout_steps quotes, each as it would be written in plain text
# (the postcode alone only quoted, as JSON would hold it: bare, it turns up in timestamps).
PLAIN = [b"Ann Lee", b"Rue de Rivoli", b"75001 Paris", b'"75001"', b"612345678"]


@pytest.fixture
async def client(settings, trained):
    async with served(settings, trained) as http:
        yield http


async def chat_key(client) -> str:
    """The outbox's key for the one web chat the test opened (whatever its token is)."""
    async with client.shop.transaction() as session:
        (key,) = (await session.execute(text(
            "SELECT key FROM chat_sessions WHERE key LIKE 'web:%'"))).scalars().all()
    return str(key)


async def test_an_order_confirmation_waiting_for_its_chat_is_sealed_at_rest(client, settings,
                                                                            caplog):
    caplog.set_level(logging.DEBUG)
    ann = Shopper(client)
    number = await place(ann)
    paid = await client.post(ann.payment_path(), data={"outcome": "pay"})
    assert paid.status_code == 200
    stored = await stored_as_is(client.shop)
    assert stored and sum(len(chunk) for chunk in stored) > 10_000
    for plain in PLAIN:
        assert not any(plain in chunk for chunk in stored), f"{plain!r} is stored in plain"

    async with client.shop.transaction() as session:
        payloads = (await session.execute(text(
            "SELECT payload FROM outbox_messages WHERE payload LIKE '%sealed%'"
            if settings.is_sqlite else
            "SELECT payload::text FROM outbox_messages WHERE payload::text LIKE '%sealed%'"
        ))).scalars().all()
    assert len(payloads) == 2  # to the chat, and the receipt by mail (sealed on its row)
    assert not [p for p in payloads if "Rivoli" in str(p) or "Ann Lee" in str(p)]

    confirmation = await ann.news()  # and the shopper reads it as ever
    assert f"Order {number} is confirmed" in confirmation[0]["text"]
    assert "Ships to: Ann Lee, 12 Rue de Rivoli, 75001 Paris, France" in confirmation[0]["text"]
    logged = caplog.text.encode()
    assert not [plain for plain in PLAIN if plain in logged], "the logs quote the address"


async def test_a_message_queued_before_sealing_began_is_still_delivered(client):
    ann = Shopper(client)
    await ann.say("hello")
    key = await chat_key(client)
    async with client.shop.transaction() as session:  # as an older release wrote it
        await session.execute(text(
            "INSERT INTO outbox_messages (chat_key, payload, created_at, attempts) "
            "VALUES (:key, :payload, CURRENT_TIMESTAMP, 0)"),
            {"key": key,
             "payload": '{"text": "Order A-1 is confirmed.", "buttons": [], "links": []}'})
    news = await ann.news()
    assert [reply["text"] for reply in news] == ["Order A-1 is confirmed."]


async def test_a_message_sealed_with_a_key_no_longer_held_is_dropped_not_stuck(client):
    ann = Shopper(client)
    await ann.say("hello")
    key = await chat_key(client)
    async with client.shop.transaction() as session:
        await outbox.enqueue(session=session, chat_key=key, text="Sealed with the key of the day.")
        await session.execute(text(
            "UPDATE outbox_messages SET payload = :payload"),
            {"payload": '{"sealed": "gAAAAABn-not-this-shops-key"}'})
    assert await ann.news(wait=0) == []
    async with client.shop.transaction() as session:
        await outbox.enqueue(session=session, chat_key=key, text="Next one.")
    assert [reply["text"] for reply in await ann.news()] == ["Next one."]
