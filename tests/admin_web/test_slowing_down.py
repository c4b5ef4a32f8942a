"""Wrong passwords slow the next attempt down (a growing wait per address and per client,
refused unevaluated with a 429 that says how long) instead of locking anyone out, and
every spelling of an address counts as the address."""

from __future__ import annotations

import asyncio

import httpx

from bot.server import create_app
from core.shop import Shop
from tests.admin_web.conftest import PASSWORD
from tests.admin_web.console import ConsoleUser


def _from(client: httpx.AsyncClient, ip: str) -> httpx.AsyncClient:
    """Another browser on the same console, from another address."""
    app = client._transport.app  # type: ignore[attr-defined]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)),
                             base_url=client.base_url)


async def test_the_fullwidth_spelling_counts_with_the_plain_address(client):
    for spelling in ("help@example.com", "HELP@example.com", "help@EXAMPLE.COM"):
        wrong = await ConsoleUser(client, spelling, PASSWORD).password_step("wrong guess 1")
        assert wrong.status_code == 400 and "Wrong email or password" in wrong.text
    fullwidth = ConsoleUser(client, "help@ｅxample.com", PASSWORD)  # U+FF45 for the e
    refused = await fullwidth.password_step()  # the right password, refused unevaluated
    assert refused.status_code == 429 and "Please wait a second" in refused.text
    assert "cc_pending" not in refused.headers.get("set-cookie", "")


async def test_wrong_passwords_slow_the_next_attempt_rather_than_lock_the_owner_out(client):
    boss = ConsoleUser(client, "boss@example.com", PASSWORD)
    for _ in range(3):  # three are free
        assert (await boss.password_step("not the password")).status_code == 400
    refused = await boss.password_step()
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert "Too many sign-in attempts. Please wait a second and try again." in refused.text
    await asyncio.sleep(1.05)
    assert (await boss.password_step("not the password")).status_code == 400  # evaluated
    refused = await boss.password_step()
    assert refused.status_code == 429 and refused.headers["retry-after"] == "2"
    assert "Please wait 2 seconds" in refused.text
    await asyncio.sleep(2.05)
    let_in = await boss.password_step()  # after five failures the owner still gets in
    assert let_in.status_code == 303 and let_in.headers["location"] == "/admin/enrol"
    for _ in range(3):  # and the right password cleared the address's count
        assert (await boss.password_step("not the password")).status_code == 400


async def test_guesses_at_many_addresses_slow_that_client_down_and_nobody_else(client):
    for n in range(10):
        guess = await ConsoleUser(client, f"staff{n}@example.com", "x").password_step("guess")
        assert guess.status_code == 400
    refused = await ConsoleUser(client, "boss@example.com", PASSWORD).password_step()
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    elsewhere = _from(client, "203.0.113.9")
    let_in = await ConsoleUser(elsewhere, "boss@example.com", PASSWORD).password_step()
    assert let_in.status_code == 303
    await elsewhere.aclose()


async def test_one_ipv6_client_is_one_client_across_its_64(client):
    for n in range(10):
        browser = _from(client, f"2001:db8:1:2::{n + 1:x}")
        assert (await ConsoleUser(browser, f"staff{n}@example.com", "x").password_step(
            "guess")).status_code == 400
        await browser.aclose()
    same_network = _from(client, "2001:db8:1:2:ffff::1")
    refused = await ConsoleUser(same_network, "boss@example.com", PASSWORD).password_step()
    assert refused.status_code == 429
    await same_network.aclose()


async def test_a_burst_of_guesses_gets_one_past_each_wait(client):
    boss = ConsoleUser(client, "boss@example.com", PASSWORD)
    for _ in range(3):
        await boss.password_step("not the password")
    await asyncio.sleep(1.05)
    page = await client.get("/admin/login")
    from tests.admin_web.console import csrf

    token = csrf(page.text)
    burst = await asyncio.gather(*(client.post("/admin/login", data={
        "csrf": token, "email": "boss@example.com", "password": f"guess {n}"})
        for n in range(12)))
    statuses = sorted(answer.status_code for answer in burst)
    assert statuses == [400] + [429] * 11, statuses


async def test_every_process_sees_the_same_count(client, settings, trained):
    other_shop = Shop.from_settings(settings)  # another process: its own engine and pool
    app = create_app(settings, other_shop, nlu=trained, sweep_seconds=3600)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as other:
        boss = ConsoleUser(client, "boss@example.com", PASSWORD)
        for _ in range(3):
            assert (await boss.password_step("not the password")).status_code == 400
        refused = await ConsoleUser(other, "boss@example.com", PASSWORD).password_step()
        assert refused.status_code == 429, "the failures counted in the first process"
    await other_shop.close()


async def test_any_text_as_the_address_is_a_wrong_password_not_an_error(client):
    for typed in ("a\x00b@example.com", "help@example.com\x00", "é" * 2000, "@", ""):
        answer = await ConsoleUser(client, typed, PASSWORD).password_step("guess")
        assert answer.status_code in (400, 429), (typed[:20], answer.status_code)
