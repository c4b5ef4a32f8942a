"""Signed preference links: only this shop's key makes one, for its purpose, until it
expires, and a spent one stays spent (on both databases)."""

from __future__ import annotations

from datetime import timedelta

from core.clock import now
from core.notifications import links
from core.notifications.kinds import Category
from core.notifications.links import LinkSigner

SIGNER = LinkSigner("a-secret-key-for-these-tests-0123456789")


def test_a_link_reads_back_as_made_for_its_purpose_only():
    token = SIGNER.make("email:abc")
    link = SIGNER.read(token, links.MANAGE)
    assert link is not None and link.holder == "email:abc" and len(link.nonce) == 32
    assert link.expires - now() > timedelta(days=59)
    assert SIGNER.read(token, links.UNSUBSCRIBE) is None
    unsubscribe = SIGNER.read(SIGNER.unsubscribe("user:7", Category.MARKETING),
                              links.UNSUBSCRIBE)
    assert unsubscribe is not None and unsubscribe.category is Category.MARKETING
    assert SIGNER.make("user:7") != SIGNER.make("user:7")  # a fresh nonce each time


def test_a_changed_character_another_key_or_an_old_link_reads_as_nothing():
    token = SIGNER.make("user:7")
    for place in range(len(token)):
        if token[place] == ".":
            continue
        changed = token[:place] + ("A" if token[place] != "A" else "B") + token[place + 1:]
        assert SIGNER.read(changed) is None or changed == token, place
    assert LinkSigner("another-key-0123456789abcdef").read(token) is None
    assert SIGNER.read(SIGNER.make("user:7", at=now() - timedelta(days=61))) is None
    for junk in ("", ".", "a.b.c", "x" * 10_000, None, 12, "é.é"):
        assert SIGNER.read(junk) is None


def test_account_mail_has_no_one_click_category():
    link = SIGNER.read(SIGNER.unsubscribe("user:7", Category.ACCOUNT))
    assert link is not None and link.category is None


async def test_a_link_is_spent_once_and_forgotten_only_once_expired(shop):
    link = SIGNER.read(SIGNER.make("user:7"))
    assert link is not None
    async with shop.transaction() as session:
        assert not await links.used(session=session, link=link)
        assert await links.use(session=session, link=link)
        assert not await links.use(session=session, link=link)
    async with shop.transaction() as session:
        assert await links.used(session=session, link=link)
        assert await links.forget_expired(session=session) == 0
        old = links.Link("user:8", links.MANAGE, now() - timedelta(seconds=1), "0" * 32)
        assert await links.use(session=session, link=old)
    async with shop.transaction() as session:
        assert await links.forget_expired(session=session) == 1
        assert await links.used(session=session, link=link)
