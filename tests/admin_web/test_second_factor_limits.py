"""Wrong second-factor codes: five void a sign-in (the password is needed again), ten on one
account within a day lock it (audited, news to admins, a WARNING), and only an admin
unlocks it. Enrolling: one secret per attempt, bound once."""

from __future__ import annotations

import asyncio
import logging
import re

import pyotp
from sqlalchemy import select

from core.accounts.models import Role, User
from core.audit.models import AuditEvent
from tests import factories
from tests.admin_web.conftest import PASSWORD
from tests.admin_web.console import ConsoleUser, another_browser, csrf, signed_in_admin
from tests.admin_web.test_live import events


def wrong_code(person: ConsoleUser) -> str:
    """Six digits the authenticator does not show now, nor a step either side."""
    shown = {person.code(steps) for steps in (-1, 0, 1, 2)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444")
                if code not in shown)


async def _enrolled(client, email: str) -> ConsoleUser:
    """`email` enrolled and then signed out: what an attacker with the password faces."""
    person = ConsoleUser(client, email, PASSWORD)
    await person.sign_in()
    client.cookies.clear()
    return person


async def test_sixty_wrong_codes_do_not_let_an_attacker_in(client, caplog):
    boss = await signed_in_admin(client)
    owners_browser = dict(client.cookies)
    client.cookies.clear()
    answers = []
    await boss.password_step()
    for _ in range(60):  # the attack: wrong codes, the password again when refused
        answer = await boss.post("/login/code", code=wrong_code(boss))
        answers.append(answer.status_code)
        if answer.status_code == 403:
            break
        if "sign in again" in answer.text:
            assert (await boss.password_step()).status_code == 303
    assert answers == [400] * 9 + [403], "the tenth wrong code locks the account"
    assert "locked after too many wrong sign-in codes" in answer.text
    again = await boss.password_step()  # the right password...
    assert again.status_code == 403 and "ask an admin to unlock it" in again.text
    code = await boss.post("/login/code", code=boss.code(1))  # ...and the right code
    assert code.status_code == 303 and code.headers["location"] == "/admin/login"
    assert (await client.get("/admin/")).headers["location"] == "/admin/login"
    client.cookies.clear()
    client.cookies.update(owners_browser)  # no session stays open on a locked account
    assert (await client.get("/admin/")).headers["location"] == "/admin/login"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and r.getMessage() == "console.account_locked"]
    assert len(warnings) == 1 and warnings[0].fields["ip"] == "127.0.0.1"  # type: ignore[attr-defined]


async def test_five_wrong_codes_void_the_sign_in_and_the_account_count_survives_the_password(
        client):
    helper = await _enrolled(client, "boss@example.com")
    await helper.password_step()
    for n in range(1, 5):
        wrong = await helper.post("/login/code", code=wrong_code(helper))
        assert wrong.status_code == 400 and "not right" in wrong.text, n
    void = await helper.post("/login/code", code=wrong_code(helper))
    assert void.status_code == 400 and "Please sign in again with your password" in void.text
    right_too_late = await helper.post("/login/code", code=helper.code(1))
    assert right_too_late.headers["location"] == "/admin/login", "the password is needed again"
    await helper.password_step()  # a new sign-in: five more here, but not on the account
    for n in range(6, 10):
        wrong = await helper.post("/login/code", code=wrong_code(helper))
        assert wrong.status_code == 400 and "not right" in wrong.text, n
    locked = await helper.post("/login/code", code=wrong_code(helper))
    assert locked.status_code == 403 and "locked" in locked.text
    assert (await helper.password_step()).status_code == 403


async def test_a_used_code_and_an_unknown_recovery_code_count_as_wrong(client):
    helper = ConsoleUser(client, "boss@example.com", PASSWORD)
    await helper.sign_in()  # enrolled with the current code: spent
    client.cookies.clear()
    spent = helper.code_at(helper.last_step)
    await helper.password_step()
    for attempt in range(4):
        used = await helper.post("/login/code", code=spent if attempt % 2 else
                                 "dead0000-beef0000")
        assert used.status_code == 400
    void = await helper.post("/login/code", code=spent)
    assert void.status_code == 400 and "sign in again" in void.text


async def _listening(browser) -> asyncio.Task:
    """`browser`'s console page's live stream, open."""
    page = await browser.get("/admin/")
    stream = re.search(r'data-live="([^"]+)"', page.text)
    assert stream, "a signed-in page has a live stream"
    task = asyncio.create_task(browser.get(stream.group(1)))
    await asyncio.sleep(0.3)
    return task


async def test_a_lock_is_audited_and_told_to_admins_as_news_and_not_to_support(client):
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        await factories.user(session, "chief@example.com", password=PASSWORD, role=Role.ADMIN)
    client.console.live_seconds = 60  # type: ignore[attr-defined]
    browsers = [another_browser(client), another_browser(client)]
    await ConsoleUser(browsers[0], "chief@example.com", PASSWORD).sign_in()
    await ConsoleUser(browsers[1], "help@example.com", PASSWORD).sign_in()
    listening = [await _listening(browser) for browser in browsers]

    boss = await _enrolled(client, "boss@example.com")
    for _ in range(2):
        await boss.password_step()
        for _ in range(5):
            await boss.post("/login/code", code=wrong_code(boss))
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        boss_id = await session.scalar(select(User.id).where(User.email == boss.email))
        audited = list(await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "account.locked")))
    assert len(audited) == 1 and audited[0].subject_id == str(boss_id)
    assert audited[0].data["failures"] == 10
    await client.post("/webchat/api/messages", json={  # news for everyone, after the lock
        "session": "lock-news-shopper", "text": "I want to talk to a person"})
    await asyncio.sleep(0.5)
    client.shop.closing.set()  # type: ignore[attr-defined]  # end the streams, as a shutdown does
    try:
        admin, support = [events((await asyncio.wait_for(task, 10)).text) for task in listening]
    finally:
        client.shop.closing.clear()  # type: ignore[attr-defined]
    assert [(item["action"], item["text"], item["link"], item["alert"]) for item in admin] == [
        ("account.locked", "boss@example.com is locked after too many wrong sign-in codes.",
         f"/admin/users/{boss_id}", True),
        ("support.handoff_requested", "A shopper is asking to talk to a person.",
         "/admin/handoffs", True)]
    assert [item["action"] for item in support] == ["support.handoff_requested"]
    for browser in browsers:
        await browser.aclose()


async def test_only_an_admin_unlocks_a_locked_account_from_its_page(client):
    boss = await _enrolled(client, "boss@example.com")
    for _ in range(2):
        await boss.password_step()
        for _ in range(5):
            await boss.post("/login/code", code=wrong_code(boss))
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        boss_id = await session.scalar(select(User.id).where(User.email == boss.email))
        await factories.user(session, "chief@example.com", password=PASSWORD, role=Role.ADMIN)
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    refused = await client.post(f"/admin/users/{boss_id}/unlock",
                                data={"csrf": csrf((await client.get("/admin/")).text)})
    assert refused.status_code == 403
    client.cookies.clear()
    await ConsoleUser(client, "chief@example.com", PASSWORD).sign_in()
    person = await client.get(f"/admin/users/{boss_id}")
    assert "· locked" in person.text and "Unlock" in person.text
    unlocked = await client.post(f"/admin/users/{boss_id}/unlock",
                                 data={"csrf": csrf(person.text), "back": "person"})
    assert unlocked.status_code == 303
    assert "· locked" not in (await client.get(f"/admin/users/{boss_id}")).text
    again = await client.post(f"/admin/users/{boss_id}/unlock",
                              data={"csrf": csrf(person.text)})
    assert again.status_code == 409 and "not locked" in again.text
    client.cookies.clear()
    assert (await boss.sign_in()).headers["location"] == "/admin/"
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        actions = list(await session.scalars(select(AuditEvent.action).where(
            AuditEvent.subject_id == str(boss_id), AuditEvent.action.like("account.%lock%"))
            .order_by(AuditEvent.id)))
    assert actions == ["account.locked", "account.unlocked"]


def _secret(page: str) -> str:
    found = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page)
    assert found, page
    return found.group(1)


async def test_an_enrolment_shows_one_secret_on_every_visit(client):
    helper = ConsoleUser(client, "boss@example.com", PASSWORD)
    await helper.password_step()
    first = _secret((await client.get("/admin/enrol")).text)
    assert _secret((await client.get("/admin/enrol")).text) == first
    helper.secret = first
    wrong = await client.post("/admin/enrol", data={
        "csrf": csrf((await client.get("/admin/enrol")).text), "code": wrong_code(helper)})
    assert wrong.status_code == 400 and _secret(wrong.text) == first
    await helper.password_step()  # a new attempt: a new secret
    assert _secret((await client.get("/admin/enrol")).text) != first


async def test_wrong_enrolment_codes_count_like_wrong_sign_in_codes(client):
    helper = ConsoleUser(client, "boss@example.com", PASSWORD)
    answers = []
    for _ in range(2):
        await helper.password_step()
        page = await client.get("/admin/enrol")
        helper.secret = _secret(page.text)
        for _ in range(5):
            answer = await client.post("/admin/enrol", data={
                "csrf": csrf(page.text), "code": wrong_code(helper)})
            answers.append(answer.status_code)
    assert answers == [400] * 9 + [403]
    assert (await helper.password_step()).status_code == 403


async def test_a_second_enrolment_attempt_cannot_replace_or_bind_over_the_first(client):
    owner = ConsoleUser(client, "boss@example.com", PASSWORD)
    other_browser = another_browser(client)
    intruder = ConsoleUser(other_browser, "boss@example.com", PASSWORD)
    await owner.password_step()
    await intruder.password_step()
    theirs = _secret((await other_browser.get("/admin/enrol")).text)
    done = await owner.enrol()
    assert done.status_code == 200 and owner.secret != theirs
    visit = await other_browser.get("/admin/enrol")  # once replaced the owner's secret
    assert visit.status_code == 409 and "already set up" in visit.text
    assert 'id="totp-secret"' not in visit.text
    late = await intruder.post("/enrol", code=pyotp.TOTP(theirs).now())
    assert late.status_code == 303 and late.headers["location"] == "/admin/login"
    client.cookies.clear()
    assert (await owner.sign_in()).headers["location"] == "/admin/", "the owner's app works"
    await other_browser.aclose()


async def test_two_enrolments_confirmed_at_once_bind_one_authenticator(client):
    browsers = [client, another_browser(client)]
    people = [ConsoleUser(browser, "boss@example.com", PASSWORD) for browser in browsers]
    pages = []
    for person, browser in zip(people, browsers, strict=True):
        await person.password_step()
        pages.append((await browser.get("/admin/enrol")).text)
    secrets = [_secret(page) for page in pages]
    answers = await asyncio.gather(*(browser.post("/admin/enrol", data={
        "csrf": csrf(page), "code": pyotp.TOTP(secret).now()})
        for browser, page, secret in zip(browsers, pages, secrets, strict=True)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 409], statuses
    winner = secrets[[a.status_code for a in answers].index(200)]
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        helper = await session.scalar(select(User).where(User.email == "boss@example.com"))
        bound = client.shop.vault.open(helper.totp_sealed)["secret"]  # type: ignore[attr-defined]
    assert bound == winner
    await browsers[1].aclose()
