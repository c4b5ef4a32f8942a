"""Account and security news by mail, on a real SMTP server: a chat linked, the address
changed (both the old and the new address hear of it), a chat unlinked, a password reset,
a staff role changed. Each is told once, and no preference turns them off."""

from __future__ import annotations

import re

import pytest

from core.accounts import service as accounts
from core.accounts.models import Role
from core.audit.actor import Actor
from core.notifications import preferences
from core.notifications.events import Channel
from core.notifications.kinds import Category
from tests.conftest import make_settings
from tests.e2e.conftest import served
from tests.e2e.webchat import Shopper
from tests.support.smtp import SmtpInbox

ADMIN = Actor.system("test")



@pytest.fixture
async def client(database_url, tmp_path, trained, inbox):
    settings = make_settings(database_url, tmp_path / "data", SMTP_URL=inbox.url)
    async with served(settings, trained) as http:
        yield http


async def _code(inbox: SmtpInbox, address: str, count: int) -> str:
    mails = await inbox.wait_for(count)
    for mail in reversed(mails):
        if mail.recipients == [address] and (found := re.search(
                r"Your code is (\d{6})", mail.message.get_body().get_content())):
            return found.group(1)
    raise AssertionError(f"no code mailed to {address}")


def _about(inbox: SmtpInbox, subject: str) -> list[list[str]]:
    return [m.recipients for m in inbox.received if m.message["Subject"] == subject]


async def test_linking_changing_the_address_and_unlinking_are_each_told_by_mail(
        client, inbox):
    ann = Shopper(client)
    await ann.say("/link")
    await ann.say("ann@example.com")
    await ann.say(await _code(inbox, "ann@example.com", 1))
    assert "linked to ann@example.com" in ann.text
    await inbox.wait_for(2)
    assert _about(inbox, "A chat was linked to your account") == [["ann@example.com"]]
    linked = inbox.received[-1]
    assert "A web chat was just linked to your account." in linked.part("plain")
    assert "A web chat was just linked to your account." in linked.part("html")

    # Ann turns every optional mail off: account news still comes.
    async with client.shop.transaction() as session:
        user = await accounts.get_by_email(session=session, email="ann@example.com")
        for category in (Category.ORDERS, Category.BACK_IN_STOCK):
            await preferences.set_choice(session=session, holder=f"user:{user.id}",
                                         category=category, channel=Channel.EMAIL, on=False,
                                         actor=ADMIN)

    await ann.say("my account")
    await ann.press("Change my email")
    assert "new email address" in ann.text
    await ann.say("ann.lee@example.org")
    await ann.say(await _code(inbox, "ann.lee@example.org", 3))
    assert "your account's email address is now ann.lee@example.org" in ann.text
    await inbox.wait_for(5)
    told = _about(inbox, "The email address of your account was changed")
    assert sorted(told) == [["ann.lee@example.org"], ["ann@example.com"]]
    warning = next(m for m in inbox.received if m.recipients == ["ann@example.com"]
                   and m.message["Subject"].startswith("The email address"))
    assert "changed to a•••@example.org" in warning.part("plain")
    assert "ann.lee@example.org" not in warning.part("plain") + warning.part("html")

    await ann.say("my account")
    await ann.press("Unlink this chat")
    await inbox.wait_for(6)
    assert _about(inbox, "A chat was unlinked from your account") == [["ann.lee@example.org"]]
    await ann.say("my account")           # nothing left to unlink: nobody is told again
    assert "isn't linked to an account" in ann.text
    assert len(inbox.received) == 6


async def test_a_role_change_and_a_password_reset_are_told_to_the_person_once(client, inbox):
    shop = client.shop
    async with shop.transaction() as session:
        bo = await accounts.register(session=session, email="bo@example.com",
                                     password="correct horse battery", role=Role.CUSTOMER,
                                     actor=ADMIN)
    for _ in range(2):  # the second one changes nothing and tells nobody
        async with shop.transaction() as session:
            await accounts.set_role(session=session, user_id=bo.id, role=Role.SUPPORT,
                                    actor=ADMIN)
    async with shop.transaction() as session:
        found = await accounts.request_password_reset(
            session=session, secret_key=shop.settings.secret_key, email="bo@example.com")
        assert found is not None
    async with shop.transaction() as session:
        await accounts.reset_password(session=session, secret_key=shop.settings.secret_key,
                                      token=found[1], new_password="another long passphrase",
                                      actor=ADMIN)
    await inbox.wait_for(2)
    assert [m.message["Subject"] for m in inbox.received] == [
        "Your role in the shop was changed", "Your password was changed"]
    assert "gave you support access" in inbox.received[0].part("plain")
