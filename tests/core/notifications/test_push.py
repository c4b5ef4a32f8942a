"""Web push subscriptions: which endpoints and keys are kept, the VAPID key made once,
and order news reaching a chat's live subscriptions within the holder's choices."""

from __future__ import annotations

import multiprocessing
import stat
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select, update

from core.audit.actor import Actor
from core.clock import now
from core.config import ConfigError, load_settings
from core.notifications import preferences, push
from core.notifications.events import Channel
from core.notifications.kinds import Category
from core.notifications.models import PushSubscription
from core.notifications.preferences import Choices
from core.notifications.vapid import FILE, VapidKeys, keys_in
from tests.support.push import Browser

KEYS = Browser("b", "https://fcm.googleapis.com/fcm/send/x").to_json()["keys"]


@pytest.mark.parametrize("endpoint", [
    "https://fcm.googleapis.com/fcm/send/abc:APA91b",
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
    "https://web.push.apple.com/QGuQyavXutnMH",
    "https://wns2-by3p.notify.windows.com/w/?token=BQYAAA",
    "https://push.example.com:443/x",
])
def test_the_push_services_browsers_use_are_accepted(endpoint):
    assert push.refusal(endpoint, KEYS["p256dh"], KEYS["auth"]) is None


@pytest.mark.parametrize("endpoint", [
    "http://fcm.googleapis.com/fcm/send/x", "ftp://push.example.com/x", "https:///x",
    "https://127.0.0.1/x", "https://127.1/x", "https://0x7f.1/x", "https://2130706433/x",
    "https://10.0.0.8/x", "https://192.168.1.1/x",
    "https://172.16.0.1/x", "https://169.254.169.254/latest/meta-data", "https://[::1]/x",
    "https://[fd00::1]/x", "https://[::ffff:127.0.0.1]/x", "https://0.0.0.0/x",
    "https://localhost/x", "https://LOCALHOST./x", "https://shop.localhost/x",
    "https://printer.local/x", "https://metadata.google.internal/x", "https://intranet/x",
    "https://push.example.com:8443/x", "https://user:pw@push.example.com/x",
    "https://push.example.com/x#frag", "https://push.example.com/\nx",
    "https://push.example.com:99999/x", "https://push.example.com/" + "a" * 1100, "", None, 12,
])
def test_anything_but_a_public_https_push_service_is_refused(endpoint):
    assert push.refusal(endpoint, KEYS["p256dh"], KEYS["auth"]) is push.Refusal.ENDPOINT


def test_a_test_may_allow_a_local_push_service_but_still_only_http_or_https():
    assert push.refusal("http://127.0.0.1:8123/push/b", KEYS["p256dh"], KEYS["auth"],
                        allow_local=True) is None
    assert push.refusal("file:///etc/passwd", KEYS["p256dh"], KEYS["auth"],
                        allow_local=True) is push.Refusal.ENDPOINT


@pytest.mark.parametrize(("p256dh", "auth"), [
    (KEYS["p256dh"], "AAAA"), (KEYS["p256dh"], KEYS["auth"] + "AAAA"),
    ("BA" + "A" * 85, KEYS["auth"]),              # 65 bytes, but not a point on P-256
    (KEYS["p256dh"][:44], KEYS["auth"]), ("A" * 5000, KEYS["auth"]),
    ("not base64!", KEYS["auth"]), (None, KEYS["auth"]), (KEYS["p256dh"], 7),
])
def test_keys_no_message_could_be_encrypted_to_are_refused(p256dh, auth):
    endpoint = "https://fcm.googleapis.com/fcm/send/x"
    assert push.refusal(endpoint, p256dh, auth) is push.Refusal.KEYS


def test_the_vapid_key_is_made_once_kept_private_and_served_as_the_page_needs(tmp_path):
    first, again = keys_in(tmp_path), VapidKeys.from_pem((tmp_path / FILE).read_bytes())
    assert first == again
    assert stat.S_IMODE((tmp_path / FILE).stat().st_mode) == 0o600
    assert len(first.public_key) == 87 and "=" not in first.public_key  # 65 bytes, base64url
    key = serialization.load_pem_private_key(first.private_pem, None)
    assert key.curve.name == "secp256r1"  # type: ignore[union-attr]


def _made_in(folder: str) -> str:
    from pathlib import Path

    return keys_in(Path(folder)).public_key


def test_processes_starting_together_agree_on_one_vapid_key(tmp_path):
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        keys = pool.map(_made_in, [str(tmp_path)] * 8)
    assert len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == [FILE], "no candidates left over"


def test_vapid_subject_must_be_a_mailto_or_https_contact(tmp_path):
    ok = load_settings(CHATCART_DATA_DIR=str(tmp_path), VAPID_SUBJECT="mailto:ops@shop.example")
    assert ok.vapid_subject == "mailto:ops@shop.example"
    with pytest.raises(ConfigError, match="VAPID_SUBJECT"):
        load_settings(CHATCART_DATA_DIR=str(tmp_path), VAPID_SUBJECT="ops@shop.example")


def test_a_shopper_who_turned_order_push_off_gets_no_push():
    off = Choices(picked={"orders:push": False})
    assert preferences.allowed(Category.ORDERS, Channel.PUSH, Choices())
    assert not preferences.allowed(Category.ORDERS, Channel.PUSH, off)
    assert not preferences.allowed(Category.MARKETING, Channel.PUSH, Choices())


async def test_a_browser_subscribing_again_is_one_subscription_and_a_chat_holds_a_few(shop):
    def browser(n: int) -> dict[str, str]:
        return {"endpoint": f"https://fcm.googleapis.com/fcm/send/{n}", **KEYS}

    async with shop.transaction() as session:
        first = await push.subscribe(session=session, chat_key="web:ann", **browser(0),
                                     actor=Actor.system("test"))
        again = await push.subscribe(session=session, chat_key="web:ann", **browser(0),
                                     actor=Actor.system("test"))
        assert first.id == again.id
        for n in range(1, push.PER_CHAT + 2):
            await push.subscribe(session=session, chat_key="web:ann", **browser(n),
                                 actor=Actor.system("test"))
        live = await push.recipients(session=session, chat_key="web:ann")
        assert len(live) == push.PER_CHAT and str(first.id) not in {r.address for r in live}
        assert await push.recipients(session=session, chat_key="telegram:1") == []
        with pytest.raises(ValueError):
            await push.subscribe(session=session, chat_key="web:ann", endpoint="https://10.0.0.1/x",
                                 p256dh=KEYS["p256dh"], auth=KEYS["auth"],
                                 actor=Actor.system("test"))


async def test_ended_subscriptions_are_forgotten_after_90_days_live_ones_never(shop):
    async with shop.transaction() as session:
        old, recent, live = [await push.subscribe(
            session=session, chat_key="web:ann", actor=Actor.system("test"),
            endpoint=f"https://fcm.googleapis.com/fcm/send/{n}", **KEYS) for n in range(3)]
        await push.gone(session=session, subscription_id=old.id, reason="410")
        await push.gone(session=session, subscription_id=recent.id, reason="410")
        await session.execute(update(PushSubscription).where(PushSubscription.id == old.id)
                              .values(gone_at=now() - timedelta(days=91)))
        live.created_at = now() - timedelta(days=400)
    async with shop.transaction() as session:
        assert await push.purge_ended(session=session) == 1
        kept = {row.id for row in await session.scalars(select(PushSubscription))}
        assert kept == {recent.id, live.id}


async def test_two_tabs_subscribing_one_browser_at_once_make_one_subscription(shop):
    """Both miss the row; one insert yields to the other instead of answering an error."""
    import asyncio

    endpoint = {"endpoint": "https://fcm.googleapis.com/fcm/send/race", **KEYS}

    async def tab(chat_key: str) -> int:
        async with shop.transaction() as session:
            row = await push.subscribe(session=session, chat_key=chat_key, **endpoint,
                                       actor=Actor.system("test"))
            return row.id

    ids = await asyncio.gather(tab("web:one"), tab("web:two"))
    assert ids[0] == ids[1]
    async with shop.sessions() as session:
        assert len((await session.scalars(select(PushSubscription))).all()) == 1
