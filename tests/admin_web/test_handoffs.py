"""A shopper asks for a person in the web chat; staff see it, one takes it, then close it."""

from __future__ import annotations

import re

from core.support import service as support
from tests.admin_web.conftest import PASSWORD
from tests.admin_web.console import ConsoleUser, csrf
from tests.e2e.webchat import Shopper


async def test_a_request_from_the_chat_is_taken_by_one_person_and_closed(client):
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()  # someone is online: the shopper is told a person will join
    shopper = Shopper(client)
    await shopper.say("can I talk to a human please")
    assert "join this chat" in shopper.text
    home = (await client.get("/admin/")).text
    assert '<p class="figure">1</p>' in home
    inbox = await client.get("/admin/handoffs")
    assert "can I talk to a human please" in inbox.text and "guest" in inbox.text
    take = re.search(r'action="/admin(/handoffs/\d+)/take"', inbox.text)
    assert take
    token = csrf(inbox.text)
    assert (await client.post(f"/admin{take.group(1)}/take",
                              data={"csrf": token})).status_code == 303
    assert "help@example.com" in (await client.get("/admin/handoffs")).text

    boss = ConsoleUser(client, "boss@example.com", PASSWORD)
    await boss.sign_in()
    page = await client.get("/admin/handoffs")
    token = csrf(page.text)
    taken = await client.post(f"/admin{take.group(1)}/take", data={"csrf": token})
    assert taken.status_code == 409 and "help@example.com has already taken it" in taken.text
    closed = await client.post(f"/admin{take.group(1)}/close", data={"csrf": token})
    assert closed.status_code == 303
    again = await client.post(f"/admin{take.group(1)}/close", data={"csrf": token})
    assert again.status_code == 303, "a second click on Close changes nothing"
    late = await client.post(f"/admin{take.group(1)}/take", data={"csrf": token})
    assert late.status_code == 409 and "already closed" in late.text
    after = (await client.get("/admin/handoffs")).text
    assert "Nobody is waiting" in after and "Recently closed" in after
    await shopper.say("talk to a person")  # the same chat asks again
    assert "join this chat" in shopper.text
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        assert len(await support.handoffs(session=session)) == 1, "a new request, not the old"


async def test_customers_and_strangers_cannot_reach_the_inbox(client):
    anonymous = await client.get("/admin/handoffs")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/admin/login"
    page = await client.get("/admin/login")
    forged = await client.post("/admin/handoffs/1/close", data={"csrf": csrf(page.text)})
    assert forged.status_code == 303 and forged.headers["location"] == "/admin/login"
