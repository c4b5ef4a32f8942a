"""RFC 8058 asks a mail provider's one-click unsubscribe to POST multipart/form-data (and
allows urlencoded): both must turn the mail off, and a body without the one-click field
changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.notifications.models import NotificationDelivery
from core.orders.states import OrderStatus
from tests.conftest import make_settings
from tests.e2e.conftest import served
from tests.e2e.test_opt_out import _advance, _paid, _unsubscribe_path


@pytest.fixture
async def client(database_url, tmp_path, trained, inbox):
    settings = make_settings(database_url, tmp_path / "data", SMTP_URL=inbox.url)
    async with served(settings, trained) as http:
        yield http

BOUNDARY = "----provider7MA4YWxkTrZu0gW"


def _multipart(name: str, value: str) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
            f"{value}\r\n--{BOUNDARY}--\r\n").encode()


async def _mailed_preparing(client) -> int:
    async with client.shop.sessions() as session:
        return len(list(await session.scalars(select(NotificationDelivery).where(
            NotificationDelivery.kind == "order_preparing",
            NotificationDelivery.channel == "email"))))


async def test_a_multipart_one_click_unsubscribes_and_a_wrong_field_changes_nothing(
        client, inbox):
    _ann, number, mail = await _paid(client, inbox)
    path = _unsubscribe_path(mail)
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    wrong = await client.post(path, content=_multipart("List-Unsubscribe", "Yes"),
                              headers=headers)
    assert wrong.status_code == 400
    posted = await client.post(path, content=_multipart("List-Unsubscribe", "One-Click"),
                               headers=headers)
    assert posted.status_code == 200
    await _advance(client, number, OrderStatus.PROCESSING)
    assert await _mailed_preparing(client) == 0   # not even queued
    again = await client.post(path, content=_multipart("List-Unsubscribe", "One-Click"),
                              headers=headers)
    assert again.status_code == 404


async def test_a_broken_multipart_body_is_refused_plainly(client, inbox):
    _ann, _number, mail = await _paid(client, inbox)
    posted = await client.post(_unsubscribe_path(mail), content=b"not multipart at all",
                               headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert posted.status_code == 400
