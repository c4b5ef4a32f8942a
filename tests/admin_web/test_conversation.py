"""A conversation held from the console (issue 17): a shopper asks for a person in the
web chat, an agent opens the conversation from the inbox, sees the shopper's cart beside
the transcript, answers (the shopper's poll gets it), writes a note the shopper never
sees, and resolves; a colleague who takes too late is told who has it, and a reply to a
resolved conversation is refused by the box it was typed in. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from core.accounts.models import Role, User
from core.audit import service as audit
from core.audit.models import AuditEvent
from core.carts import service as carts
from core.support import conversations as talk
from core.support.models import SupportMessage
from tests import factories
from tests.admin_web.conftest import PASSWORD
from tests.admin_web.console import ConsoleUser, another_browser, csrf
from tests.e2e.webchat import Shopper


def _said(replies: list[dict]) -> str:
    return "\n".join(reply["text"] for reply in replies)


async def _heard(shopper: Shopper, words: str, tries: int = 6) -> str:
    """What the shopper's poll brings until `words` arrive (the relay sends in its time)."""
    heard = ""
    for _try in range(tries):
        heard += _said(await shopper.news(wait=2))
        if words in heard:
            return heard
    return heard


def stream_events(body: str) -> list[tuple[str, dict]]:
    found = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines()
                      if ": " in line and not line.startswith(":"))
        if "event" in fields:
            found.append((fields["event"], json.loads(fields["data"])))
    return found


async def test_an_agent_answers_notes_and_resolves_from_the_conversation_page(client):
    shopper = Shopper(client)
    await shopper.say("hello")
    async with client.shop.transaction() as session:  # the shopper's cart, as the bot fills it
        mug = await factories.product(session, name="Blue mug", sku="MUG-BLUE")
        cart = await factories.guest_cart(session, shopper.chat_key)
        await carts.add_item(session=session, cart=cart, product_id=mug.id, quantity=2,
                             actor=factories.ADMIN)
    await shopper.say("can I talk to a human please")
    assert "join this chat" in shopper.text or "nobody" in shopper.text.lower()

    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    inbox = await client.get("/admin/handoffs")
    found = re.search(r'href="/admin/handoffs/(\d+)"', inbox.text)
    assert found, inbox.text
    number = found.group(1)
    assert "waiting" in inbox.text and ("just now" in inbox.text or " min" in inbox.text)
    assert "No conversation has been rated yet" in inbox.text

    page = await client.get(f"/admin/handoffs/{number}")
    assert page.status_code == 200
    assert "Waiting for a person." in page.text
    assert re.search(r'class="entry shopper context"[^>]*>.*?before the request.*?<p>hello</p>',
                     page.text, re.S), "the turns before the request, marked"
    assert "<p>can I talk to a human please</p>" in page.text
    assert "2 × Blue mug" in page.text and "MUG-BLUE" in page.text, "the cart beside it"
    assert "guest" in page.text and 'src="/admin/static/conversation.js"' in page.text
    assert f'data-stream="/admin/handoffs/{number}/live?after=' in page.text
    assert "<script>" not in page.text, "no inline script under the console's CSP"

    answered = await client.post(f"/admin/handoffs/{number}/reply", data={
        "csrf": csrf(page.text), "text": "Hello, I am Sam <b>from the shop</b>."})
    assert answered.status_code == 303
    heard = await _heard(shopper, "I am Sam")
    assert "Hello, I am Sam <b>from the shop</b>." in heard, heard

    await shopper.say("thanks! where is my parcel?")
    assert not shopper.last, "the bot stays silent while a person holds the chat"
    page = await client.get(f"/admin/handoffs/{number}")
    assert "With help@example.com." in page.text
    assert "<p>thanks! where is my parcel?</p>" in page.text
    assert "Hello, I am Sam &lt;b&gt;from the shop&lt;/b&gt;." in page.text, "escaped"
    assert "took the conversation" in page.text
    noted = await client.post(f"/admin/handoffs/{number}/note", data={
        "csrf": csrf(page.text), "text": "Offered a discount on the next mug."})
    assert noted.status_code == 303
    page = await client.get(f"/admin/handoffs/{number}")
    assert "Offered a discount on the next mug." in page.text
    assert "Note by help@example.com" in page.text

    # A colleague who takes or answers now is told who has it, where they clicked.
    other = another_browser(client)
    boss = ConsoleUser(other, "boss@example.com", PASSWORD)
    await boss.sign_in()
    theirs = await other.get(f"/admin/handoffs/{number}")
    taken = await other.post(f"/admin/handoffs/{number}/take", data={
        "csrf": csrf(theirs.text), "back": "conversation"})
    assert taken.status_code == 409
    assert 'id="action-error">help@example.com has already taken it.' in taken.text
    late = await other.post(f"/admin/handoffs/{number}/reply", data={
        "csrf": csrf(theirs.text), "text": "Me too!"})
    assert late.status_code == 409
    assert 'id="reply-error">help@example.com has already taken it.' in late.text
    assert ">Me too!</textarea>" in late.text, "what was typed is kept"

    # The stream gives what the page has not shown yet, then the state.
    last = int(re.search(r"handoffs/\d+/live\?after=(\d+)", page.text).group(1))  # type: ignore[union-attr]
    client.console.live_seconds = 0.2
    shown = await client.get(f"/admin/handoffs/{number}/live?after=0")
    events = stream_events(shown.text)
    entries = [data for kind, data in events if kind == "entry"]
    assert [entry["id"] for entry in entries] == sorted(entry["id"] for entry in entries)
    assert entries[-1]["id"] == last and entries[-1]["author"] == "note"
    assert any(entry["author"] == "agent" and entry["who"] == "help@example.com"
               for entry in entries)
    kind, state = events[-1]
    assert kind == "state" and state["state"] == "taken"
    assert state["text"] == "With help@example.com."
    nothing = await client.get(f"/admin/handoffs/{number}/live?after={last}")
    assert [kind for kind, _data in stream_events(nothing.text)] == ["state"]

    resolved = await client.post(f"/admin/handoffs/{number}/resolve", data={
        "csrf": csrf(page.text), "back": "conversation"})
    assert resolved.status_code == 303
    assert resolved.headers["location"] == f"/admin/handoffs/{number}"
    heard = await _heard(shopper, "rate")
    assert "Offered a discount" not in heard, "the shopper never sees a note"
    refused = await client.post(f"/admin/handoffs/{number}/reply", data={
        "csrf": csrf(page.text), "text": "One more thing"})
    assert refused.status_code == 409
    assert re.search(r'id="reply-error">[^<]*resolved', refused.text), "the reason, by the box"
    assert ">One more thing</textarea>" in refused.text
    page = await client.get(f"/admin/handoffs/{number}")
    assert "Resolved: the chat is back with the bot." in page.text
    assert 'action="/admin/handoffs/' + number + '/reply"' not in page.text

    async with client.shop.transaction() as session:
        actions = [event.action for event in await audit.history(
            session=session, subject_type="handoff", subject_id=int(number))]
    assert {"support.handoff_taken", "support.agent_replied", "support.note_added",
            "support.handoff_resolved"} <= set(actions)


async def test_transfer_saved_replies_and_presence(client):
    shopper = Shopper(client)
    await shopper.say("I want to talk to a person")
    async with client.shop.transaction() as session:
        assert await talk.staff_online(session=session) == 0
    boss = ConsoleUser(client, "boss@example.com", PASSWORD)
    await boss.sign_in()
    saved = await client.get("/admin/saved-replies")
    async with client.shop.transaction() as session:
        assert await talk.staff_online(session=session) == 1, "using the console is presence"
    assert saved.status_code == 200 and "No saved replies yet" in saved.text
    added = await client.post("/admin/saved-replies", data={
        "csrf": csrf(saved.text), "title": "Delivery", "text": "We ship within two days."})
    assert added.status_code == 303
    saved = await client.get("/admin/saved-replies")
    reply_id = re.search(r'/admin/saved-replies/(\d+)/save', saved.text).group(1)  # type: ignore[union-attr]
    edited = await client.post(f"/admin/saved-replies/{reply_id}/save", data={
        "csrf": csrf(saved.text), "title": "Delivery",
        "text": "We ship within one working day."})
    assert edited.status_code == 303
    empty = await client.post("/admin/saved-replies", data={
        "csrf": csrf(saved.text), "title": "", "text": "x" * 5000})
    assert empty.status_code == 400 and "A saved reply needs a title" in empty.text

    inbox = await client.get("/admin/handoffs")
    number = re.search(r'href="/admin/handoffs/(\d+)"', inbox.text).group(1)  # type: ignore[union-attr]
    page = await client.get(f"/admin/handoffs/{number}")
    assert 'data-text="We ship within one working day."' in page.text
    # Without script, the picked saved reply is sent when the box is left empty.
    sent = await client.post(f"/admin/handoffs/{number}/reply", data={
        "csrf": csrf(page.text), "text": "", "saved": reply_id})
    assert sent.status_code == 303
    assert "We ship within one working day." in await _heard(shopper, "working day")

    helper_id = re.search(r'<option value="(\d+)">help@example.com \(support\)',
                          (await client.get(f"/admin/handoffs/{number}")).text)
    assert helper_id, "support staff are offered to transfer to"
    moved = await client.post(f"/admin/handoffs/{number}/transfer", data={
        "csrf": csrf(page.text), "to": helper_id.group(1)})
    assert moved.status_code == 303
    page = await client.get(f"/admin/handoffs/{number}")
    assert "With help@example.com." in page.text and "Transferred to help@example.com" in page.text
    nobody = await client.post(f"/admin/handoffs/{number}/transfer", data={
        "csrf": csrf(page.text), "to": "abc"})
    assert nobody.status_code == 400 and "No such member of staff" in nobody.text

    deleted = await client.post(f"/admin/saved-replies/{reply_id}/delete", data={
        "csrf": csrf(page.text)})
    again = await client.post(f"/admin/saved-replies/{reply_id}/delete", data={
        "csrf": csrf(page.text)})
    assert deleted.status_code == again.status_code == 303
    assert "No saved replies yet" in (await client.get("/admin/saved-replies")).text


async def test_bad_ids_forged_forms_and_strangers_change_nothing(client):
    shopper = Shopper(client)
    await shopper.say("talk to a person")
    anonymous = await client.get("/admin/handoffs/1")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/admin/login"
    assert (await client.get("/admin/handoffs/1/live")).status_code == 401
    customer = ConsoleUser(client, "ann@example.com", PASSWORD)
    await customer.password_step()
    assert (await client.get("/admin/handoffs/1")).status_code in (303, 403)

    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    page = await client.get("/admin/handoffs")
    token = csrf(page.text)
    for path in ("/admin/handoffs/999999", "/admin/handoffs/99999999999999999999",
                 "/admin/saved-replies/99999999999999999999/save"):
        assert (await client.get(path)).status_code in (404, 405), path
    assert (await client.get("/admin/handoffs/999999")).status_code == 404
    for change in ("reply", "note", "transfer", "take", "resolve"):
        missing = await client.post(f"/admin/handoffs/999999/{change}", data={
            "csrf": token, "text": "hello", "to": "1", "back": "conversation"})
        assert missing.status_code in (400, 404), (change, missing.status_code)
    forged = await client.post("/admin/handoffs/1/reply", data={"csrf": "nope",
                                                                "text": "hello"})
    assert forged.status_code == 403
    huge = await client.post("/admin/handoffs/1/reply", data={"csrf": token,
                                                              "text": "x" * 20000})
    assert huge.status_code == 400 and "at most 4,000 characters" in huge.text
    assert huge.text.count("x" * 4002) == 0, "a long text is not echoed whole"
    async with client.shop.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(SupportMessage).where(
            SupportMessage.author == "agent")) == 0, "nothing was sent"


async def test_a_colleague_cannot_transfer_a_held_conversation_to_themselves(client):
    async with client.shop.transaction() as session:
        await factories.user(session, "kim@example.com", password=PASSWORD, role=Role.SUPPORT)
    shopper = Shopper(client)
    await shopper.say("talk to a person")
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    number = re.search(r'href="/admin/handoffs/(\d+)"',  # type: ignore[union-attr]
                       (await client.get("/admin/handoffs")).text).group(1)
    page = await client.get(f"/admin/handoffs/{number}")
    assert not re.search(r'<option value="\d+">help@example.com', page.text), \
        "nobody is offered themselves"
    taken = await client.post(f"/admin/handoffs/{number}/take", data={
        "csrf": csrf(page.text), "back": "conversation"})
    assert taken.status_code == 303

    other = another_browser(client)
    kim = ConsoleUser(other, "kim@example.com", PASSWORD)
    await kim.sign_in()
    theirs = await other.get(f"/admin/handoffs/{number}")
    assert "With help@example.com." in theirs.text
    assert "/transfer" not in theirs.text, "no transfer offered for a colleague's conversation"
    async with client.shop.transaction() as session:
        kim_id = await session.scalar(select(User.id).where(User.email == "kim@example.com"))
        boss_id = await session.scalar(select(User.id).where(User.email == "boss@example.com"))
    grabbed = await other.post(f"/admin/handoffs/{number}/transfer", data={
        "csrf": csrf(theirs.text), "to": str(kim_id)})
    assert grabbed.status_code == 409
    assert 'id="action-error">help@example.com holds this conversation: only they or an ' \
           'admin can transfer it.' in grabbed.text
    assert "With help@example.com." in grabbed.text

    boss_browser = another_browser(client)
    boss = ConsoleUser(boss_browser, "boss@example.com", PASSWORD)
    await boss.sign_in()
    shown = await boss_browser.get(f"/admin/handoffs/{number}")
    offered = re.findall(r'<option value="(\d+)">([^ ]+) \(', shown.text)
    assert ("kim@example.com" in {email for _id, email in offered}
            and not {"boss@example.com", "help@example.com"} & {e for _i, e in offered}), offered
    reassigned = await boss_browser.post(f"/admin/handoffs/{number}/transfer", data={
        "csrf": csrf(shown.text), "to": str(kim_id)})
    assert reassigned.status_code == 303
    page = await client.get(f"/admin/handoffs/{number}")
    assert "With kim@example.com." in page.text
    async with client.shop.transaction() as session:
        moved = await session.scalar(select(AuditEvent).where(
            AuditEvent.action == "support.handoff_transferred"))
    assert moved is not None and moved.actor_user_id == boss_id
    assert moved.data["reassigned_by_admin"] is True
