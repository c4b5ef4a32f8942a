"""Inventory, users and the audit log in the console, each action by role and through
core's rules."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from core.accounts import service as accounts
from core.accounts.models import Role
from core.inventory import service as inventory
from tests import factories
from tests.admin_web.conftest import PASSWORD
from tests.admin_web.console import ConsoleUser, csrf, signed_in_admin


@pytest.fixture(autouse=True)
async def stock(client):
    async with client.shop.transaction() as session:
        await factories.product(session, name="Desk lamp", sku="LAMP-1", stock=2, threshold=3)
        await factories.product(session, name="Blue mug", sku="MUG-1", stock=40, threshold=3)


def _form_action(html: str, sku: str) -> str:
    row = next(line for line in html.split("<tr") if f">{sku}</a></td>" in line)
    found = re.search(r'action="([^"]+)"', row)
    assert found
    return found.group(1)


async def test_stock_is_adjusted_with_a_reason_and_the_low_count_follows(client):
    await signed_in_admin(client)
    page = await client.get("/admin/inventory")
    assert 'title="products running low">1</span>' in page.text, "the count in the navigation"
    low = (await client.get("/admin/inventory", params={"low": "1"})).text
    assert "LAMP-1" in low and "MUG-1" not in low
    action = _form_action(page.text, "LAMP-1")
    no_reason = await client.post(action, data={"csrf": csrf(page.text), "delta": "+10",
                                                "reason": " "})
    assert no_reason.status_code == 400 and "give a reason" in no_reason.text
    words = await client.post(action, data={"csrf": csrf(page.text), "delta": "ten",
                                            "reason": "delivery"})
    assert words.status_code == 400 and "whole number" in words.text
    below = await client.post(action, data={"csrf": csrf(page.text), "delta": "-5",
                                            "reason": "broken"})
    assert below.status_code == 400 and "on hand: 2" in below.text
    done = await client.post(action, data={"csrf": csrf(page.text), "delta": "+10",
                                           "reason": "delivery from the supplier"})
    assert done.status_code == 303
    after = (await client.get("/admin/inventory")).text
    assert 'title="products running low" hidden>0</span>' in after
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        assert await inventory.low_count(session=session) == 0
    log = (await client.get("/admin/audit", params={"action": "stock."})).text
    assert "stock.adjusted" in log and "delivery from the supplier" in log


async def test_support_reads_stock_and_customers_but_changes_neither_nor_sees_staff(client):
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    page = await client.get("/admin/inventory")
    assert page.status_code == 200 and "Apply</button>" not in page.text
    forced = await client.post("/admin/inventory/1", data={"csrf": csrf(page.text),
                                                           "delta": "+1", "reason": "x"})
    assert forced.status_code == 403
    assert (await client.get("/admin/audit")).status_code == 403
    assert "People</a>" not in page.text and "Customers</a>" in page.text
    people = await client.get("/admin/users", params={"role": "admin"})
    assert "ann@example.com" in people.text and "boss@example.com" not in people.text
    assert "Set role" not in people.text
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        ann = await accounts.get_by_email(session=session, email="ann@example.com")
        boss = await accounts.get_by_email(session=session, email="boss@example.com")
    assert (await client.get(f"/admin/users/{ann.id}")).status_code == 200
    staff, nobody = (await client.get(f"/admin/users/{boss.id}"),
                     await client.get("/admin/users/99999"))
    assert staff.status_code == nobody.status_code == 404  # a staff account does not show
    assert "boss@example.com" not in staff.text and staff.text.count("No such person") == 1
    promote = await client.post(f"/admin/users/{ann.id}/role",
                                data={"csrf": csrf(page.text), "role": "admin"})
    assert promote.status_code == 403
    orders = await client.get("/admin/orders", params={"customer": "boss@example.com"})
    assert "No customer account has that email" in orders.text


async def test_an_admin_changes_roles_and_disables_but_not_themselves(client):
    await signed_in_admin(client)
    page = await client.get("/admin/users")
    assert "ann@example.com" in page.text and "boss@example.com" in page.text
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        ann = await accounts.get_by_email(session=session, email="ann@example.com")
        boss = await accounts.get_by_email(session=session, email="boss@example.com")
    token = csrf(page.text)
    promoted = await client.post(f"/admin/users/{ann.id}/role",
                                 data={"csrf": token, "role": "support"})
    assert promoted.status_code == 303
    bad_role = await client.post(f"/admin/users/{ann.id}/role",
                                 data={"csrf": token, "role": "owner"})
    assert bad_role.status_code == 400 and "Role must be one of" in bad_role.text
    disabled = await client.post(f"/admin/users/{ann.id}/disable", data={"csrf": token})
    assert disabled.status_code == 303
    myself = await client.post(f"/admin/users/{boss.id}/disable", data={"csrf": token})
    assert myself.status_code == 403 and "your own admin access" in myself.text
    demote = await client.post(f"/admin/users/{boss.id}/role",
                               data={"csrf": token, "role": "support"})
    assert demote.status_code == 403
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        ann = await accounts.get(session=session, user_id=ann.id)
        boss = await accounts.get(session=session, user_id=boss.id)
        assert ann.role is Role.SUPPORT and not ann.is_active
        assert boss.role is Role.ADMIN and boss.is_active
    log = (await client.get("/admin/audit", params={"subject": "user"})).text
    assert "account.role_changed" in log and "account.disabled" in log
    today = date.today().isoformat()
    mine = (await client.get("/admin/audit", params={
        "who": "BOSS@", "since": today, "until": today})).text
    assert "account.disabled" in mine and "product.created" not in mine  # made by the tests
    later = (await client.get("/admin/audit", params={
        "since": (date.today() + timedelta(days=1)).isoformat()})).text
    assert "Nothing matches" in later


async def test_support_edits_the_faq_and_the_bot_answers_from_it(client):
    from core.support import service as support

    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    page = await client.get("/admin/faq")
    token = csrf(page.text)
    empty = await client.post("/admin/faq", data={"csrf": token, "question": "Hm",
                                                  "answer": ""})
    assert empty.status_code == 400 and "needs a question" in empty.text
    added = await client.post("/admin/faq", data={
        "csrf": token, "question": "How long does delivery take?",
        "answer": "Two to four working days.", "keywords": "shipping postage"})
    assert added.status_code == 303
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        entry = (await support.all_faq(session=session))[0]
        assert (await support.best_answer(session=session, text="how long is postage")).id \
            == entry.id
    hidden = await client.post(f"/admin/faq/{entry.id}", data={
        "csrf": token, "question": "How long does delivery take?",
        "answer": "Two to three working days.", "keywords": "shipping postage"})
    assert hidden.status_code == 303
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        assert await support.best_answer(session=session, text="how long is postage") is None
        (entry,) = await support.all_faq(session=session)
        assert entry.answer == "Two to three working days." and not entry.is_published
    missing = await client.post("/admin/faq/999", data={
        "csrf": token, "question": "Anything at all?", "answer": "x"})
    assert missing.status_code == 404 and "No such FAQ entry" in missing.text
