"""The outbox: leased to one deliverer at a time, retried with growing pauses, given up
after a few tries, and kept only a day once done; what each says is sealed in its row."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from core.clock import now
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage


async def _queue(shop, *chat_keys: str) -> list[int]:
    async with shop.transaction() as session:
        return [(await outbox.enqueue(session=session, chat_key=key, text=f"to {key}")).id
                for key in chat_keys]


async def test_a_message_is_leased_to_one_deliverer_until_it_is_marked(shop):
    telegram, web = await _queue(shop, "telegram:1", "web:abcdefgh")
    async with shop.transaction() as session:
        first = await outbox.claim(session=session, platforms=["telegram", "slack"])
        again = await outbox.claim(session=session, platforms=["telegram"])
        mine = await outbox.claim(session=session, chat_keys=["web:abcdefgh"])
        assert [m.id for m in first] == [telegram] and again == []
        assert [m.id for m in mine] == [web]
        assert await outbox.claim(session=session, platforms=[]) == []
    async with shop.transaction() as session:  # the deliverer died: its lease runs out
        await session.execute(update(OutboxMessage).values(claimed_until=now()))
    async with shop.transaction() as session:
        retaken = await outbox.claim(session=session, platforms=["telegram"])
        assert [(m.id, m.attempts) for m in retaken] == [(telegram, 2)]
        await outbox.delivered(session=session, message_ids=[telegram])
    async with shop.transaction() as session:
        await session.execute(update(OutboxMessage).values(claimed_until=now()))
        assert await outbox.claim(session=session, platforms=["telegram"]) == []


async def test_failures_wait_longer_each_time_and_are_given_up_in_the_end(shop):
    (message_id,) = await _queue(shop, "slack:C1")
    pauses = []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        async with shop.transaction() as session:
            await session.execute(update(OutboxMessage).values(next_attempt_at=None))
            (claimed,) = await outbox.claim(session=session, platforms=["slack"])
            assert claimed.attempts == attempt
            gave_up = await outbox.failed(session=session, message_id=message_id,
                                          error="RetryAfter")
            message = await session.get(OutboxMessage, message_id)
            if gave_up:
                break
            pauses.append(message.next_attempt_at - now())
            assert await outbox.claim(session=session, platforms=["slack"]) == []  # not yet
    assert attempt == outbox.MAX_ATTEMPTS and message.gave_up_at is not None
    capped = outbox.BACKOFF_CAP - timedelta(seconds=5)  # measured a moment after it was set
    assert all(later > sooner or sooner > capped
               for sooner, later in zip(pauses, pauses[1:], strict=False))
    assert pauses[0] < timedelta(seconds=6) and capped < pauses[-1] <= outbox.BACKOFF_CAP


async def test_a_chat_that_cannot_be_reached_is_given_up_at_once_and_purged_later(shop):
    blocked, sent = await _queue(shop, "telegram:9", "telegram:10")
    async with shop.transaction() as session:
        await outbox.claim(session=session, platforms=["telegram"])
        assert await outbox.failed(session=session, message_id=blocked, error="blocked",
                                   final=True)
        await outbox.delivered(session=session, message_ids=[sent])
        assert await outbox.purge_sent(session=session) == 0  # a day's grace
        assert await outbox.purge_sent(session=session, keep=timedelta(seconds=-1)) == 2


async def test_what_a_message_says_is_sealed_in_its_row_and_opened_for_delivery(shop):
    async with shop.transaction() as session:
        queued = await outbox.enqueue(session=session, chat_key="web:abcdefgh",
                                      text="Ships to: Ann Lee, 12 Rue de Rivoli",
                                      links=[{"label": "Pay", "url": "https://pay/1"}])
    async with shop.transaction() as session:
        row = await session.get(OutboxMessage, queued.id)
        assert list(row.payload) == ["sealed"] and "Rivoli" not in row.payload["sealed"]
        assert outbox.opened(row.payload, shop.vault) == {
            "text": "Ships to: Ann Lee, 12 Rue de Rivoli", "buttons": [],
            "links": [{"label": "Pay", "url": "https://pay/1"}]}
    async with shop.sessions() as session:  # a session not made by the shop has no key
        with pytest.raises(RuntimeError, match="Vault"):
            session.info.pop(outbox.VAULT)
            await outbox.enqueue(session=session, chat_key="web:abcdefgh", text="plain")
