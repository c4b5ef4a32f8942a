"""The preferences page over HTTP: a save changes exactly what was posted, audited, and
answers with a fresh link while the old one is spent; bad input changes nothing and does
not spend the link; the page needs no script and is never cached."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.notifications import preferences
from core.notifications.links import LinkSigner
from tests.conftest import SECRET, make_settings
from tests.e2e.conftest import served


@pytest.fixture
async def client(database_url, tmp_path, trained):
    async with served(make_settings(database_url, tmp_path / "data"), trained) as http:
        yield http


def _holder(client) -> str:
    return preferences.holder_for(client.shop.vault, email="ann@example.com")


async def _choices(client) -> preferences.Choices:
    async with client.shop.sessions() as session:
        return await preferences.choices_of(session=session, holder=_holder(client))


async def test_a_save_changes_what_was_posted_and_answers_with_a_fresh_link(client):
    token = LinkSigner(SECRET).make(_holder(client))
    page = await client.get(f"/notifications/{token}")
    assert page.status_code == 200 and "<script" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    saved = await client.post(f"/notifications/{token}", data={
        "orders:chat": "on", "marketing:email": "on", "back_in_stock:chat": "on",
        "quiet": "21-08", "zone": "Asia/Tokyo"})
    assert saved.status_code == 200 and "Saved." in saved.text
    choices = await _choices(client)
    assert choices.picked == {"orders:email": False, "marketing:email": True,
                              "back_in_stock:email": False}
    assert (choices.quiet_from, choices.quiet_until, choices.time_zone) == (1260, 480,
                                                                          "Asia/Tokyo")
    fresh = re.search(r'action="/notifications/([^"]+)"', saved.text)
    assert fresh and fresh.group(1) != token
    assert (await client.get(f"/notifications/{token}")).status_code == 404
    assert (await client.post(f"/notifications/{token}", data={"quiet": "off"})
            ).status_code == 404
    assert (await client.get(f"/notifications/{fresh.group(1)}")).status_code == 200
    async with client.shop.sessions() as session:
        audited = (await session.scalars(select(AuditEvent.data).where(
            AuditEvent.action == "notifications.preference"))).all()
    assert sorted(entry["choice"] for entry in audited) == [
        "back_in_stock:email", "marketing:email", "orders:email"]


@pytest.mark.parametrize("form", [
    {"quiet": "22-07", "zone": "Mars/Olympus"}, {"quiet": "25-99", "zone": "UTC"},
    {"quiet": "off", "zone": "../../etc/passwd"}, {"quiet": "off", "zone": "x" * 500}])
async def test_bad_input_changes_nothing_and_keeps_the_link(client, form):
    token = LinkSigner(SECRET).make(_holder(client))
    answer = await client.post(f"/notifications/{token}", data={"marketing:email": "on",
                                                                **form})
    assert answer.status_code == 400 and "Traceback" not in answer.text
    assert await _choices(client) == preferences.Choices()
    assert (await client.get(f"/notifications/{token}")).status_code == 200


async def test_a_body_too_large_or_a_post_without_one_click_changes_nothing(client):
    token = LinkSigner(SECRET).make(_holder(client))
    huge = await client.post(f"/notifications/{token}", content=b"a=" + b"x" * 40_000,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert huge.status_code == 413
    unsubscribe = LinkSigner(SECRET).make(_holder(client), "unsubscribe:orders")
    plain = await client.post(f"/notifications/unsubscribe/{unsubscribe}", data={})
    assert plain.status_code == 400
    assert await _choices(client) == preferences.Choices()
    one_click = await client.post(f"/notifications/unsubscribe/{unsubscribe}",
                                  data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert (await _choices(client)).picked == {"orders:email": False}
    assert (await client.post(f"/notifications/{unsubscribe}", data={"quiet": "off"})
            ).status_code == 404  # an unsubscribe link opens no settings page
