"""The console in a real browser: Debian's Chromium driven by Playwright against a real
`chatcart demo` server. Screenshots of the pages go to the test's output folder."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest

from tests.e2e.checkout_steps import buy_with_the_test_gateway
from tests.support.servers import free_port

CHROMIUM = os.environ.get("CHATCART_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
# Kept after the run (ignored by git) so the pages can be looked at.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def chromium() -> str:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        reason = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"CI must run this test, but: {reason}", pytrace=False)
        pytest.skip(reason)
    return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """A demo shop served by the real CLI: (base URL, admin email, admin password)."""
    folder = tmp_path_factory.mktemp("console")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    # A scripted shopper types faster than a person: over 20 messages in 10 s, the chat's
    # flood guard answered "slow down" in the middle of a return (CHAT_FLOOD_LIMIT=0, as
    # the benchmarks' scripted shoppers have it).
    env.update(CHATCART_DATA_DIR=str(folder / "data"),
               DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'shop.db'}", CHAT_FLOOD_LIMIT="0")
    process = subprocess.Popen([sys.executable, "-m", "bot", "demo", "--port", str(port)],
                               cwd=folder, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    login = ""
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        while not login:
            line = process.stdout.readline()
            assert line or process.poll() is None, "demo stopped"
            if line.startswith("Admin login: "):
                login = line.removeprefix("Admin login: ").strip()
            assert time.monotonic() < deadline, "no admin login printed"
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        email, password = login.split(" / ")
        yield base, email, password
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_an_admin_signs_in_with_two_factor_then_ships_and_refunds_an_order(
        chromium: str, server: tuple[str, str, str]):
    from playwright.async_api import async_playwright

    base, email, password = server
    shots = SCREENSHOTS / "console"
    shots.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True,
                                                   args=ARGS)
        page = await browser.new_page()
        await page.goto(f"{base}/admin/")
        assert page.url.endswith("/admin/login")
        await page.fill("input[name=email]", email)
        await page.fill("input[name=password]", password)
        await page.screenshot(path=shots / "1-sign-in.png")
        await page.click("button[type=submit]")
        await page.wait_for_url(re.compile(r"/admin/enrol$"))
        secret = (await page.text_content("#totp-secret") or "").strip()
        assert await page.locator("img.qr").is_visible()
        await page.screenshot(path=shots / "2-enrol.png")
        await page.fill("input[name=code]", pyotp.TOTP(secret).now())
        await page.click("button[type=submit]")
        await page.wait_for_selector("text=Two-factor sign-in is on")
        assert await page.locator("ul.codes li").count() == 10
        await page.screenshot(path=shots / "3-recovery-codes.png")
        await page.click("text=Continue to the console")
        await page.wait_for_selector("text=Today in the shop")
        assert await page.locator("text=Low stock").is_visible()
        await page.screenshot(path=shots / "4-home.png", full_page=True)

        number = buy_with_the_test_gateway(base)  # a shopper buys
        # The open page hears of it at once (live news), without being reloaded.
        await page.wait_for_selector(f"#news >> text=Order {number} is paid", timeout=10000)
        await page.click("nav >> text=Orders")
        await page.wait_for_selector(f"text={number}")
        await page.screenshot(path=shots / "5-orders.png", full_page=True)
        await page.click(f"text={number}")
        await page.fill("input[name=carrier]", "DHL")
        await page.fill("input[name=tracking]", "JD0146000062")
        await page.click("form[action$=ship] button")
        await page.wait_for_selector("h1 >> text=shipped")
        await page.fill("form[action$=refund] input[name=amount]", "12.50")
        await page.fill("form[action$=refund] input[name=reason]", "one mug chipped")
        await page.click("form[action$=refund] button")
        await page.wait_for_selector("h1 >> text=partially refunded")
        await page.fill("form[action$=refund-lines] input[type=number]", "1")
        await page.fill("form[action$=refund-lines] input[name=reason]", "returned unopened")
        await page.check("form[action$=refund-lines] input[name=restock]")
        await page.click("form[action$=refund-lines] button")
        await page.wait_for_selector("text=(1 refunded)")
        await page.screenshot(path=shots / "6-order.png", full_page=True)
        await page.click("nav >> text=Products")
        await page.fill("form.product input[name=sku]", "VASE-TEAL")
        await page.fill("form.product input[name=name]", "Teal stoneware vase")
        await page.fill("form.product input[name=category]", "Home > Vases")
        await page.fill("form.product input[name=price]", "24.90")
        await page.fill("form.product input[name=stock]", "6")
        picture = shots / "vase.png"
        _teal_png(picture)
        await page.set_input_files("form.product input[name=image]", str(picture))
        await page.click("form.product button[type=submit]")
        await page.wait_for_selector("h1 >> text=Teal stoneware vase")
        assert await page.locator("main img.thumb").count() == 1
        await page.screenshot(path=shots / "7-product.png", full_page=True)
        await page.click("nav >> text=Products")
        await page.select_option("select[name=stock]", "low")
        await page.click("form.filters button")
        await page.wait_for_url(re.compile(r"stock=low"))
        await page.screenshot(path=shots / "8-products.png", full_page=True)
        await page.click("text=Categories")
        await page.fill("input[name=path]", "Garden > Pots")
        await page.click("text=Add category")
        await page.wait_for_selector("ul.tree >> text=Pots")
        await page.screenshot(path=shots / "9-categories.png", full_page=True)
        await page.click("nav >> text=Inventory")
        await page.wait_for_selector("text=Held for orders awaiting payment")
        await page.screenshot(path=shots / "10-inventory.png", full_page=True)
        async with httpx.AsyncClient(base_url=base, timeout=30) as chat:
            await chat.post("/webchat/api/messages", json={
                "text": "I want to talk to a person"})  # a new chat
        await page.wait_for_selector("#news >> text=asking to talk to a person", timeout=10000)
        assert await page.inner_text("[data-count=handoffs]") == "1"
        await page.screenshot(path=shots / "13-live-news.png")
        await page.click("#news >> text=asking to talk to a person")
        await page.wait_for_url(re.compile(r"/admin/handoffs$"))
        await page.click("button:has-text('Take')")
        await page.wait_for_selector(f"td >> text={email}")
        await page.screenshot(path=shots / "11-support-requests.png", full_page=True)
        await page.click("nav >> text=People")
        await page.click(f"main >> text={email}")
        await page.wait_for_selector("text=Linked chats")
        await page.screenshot(path=shots / "12-person.png", full_page=True)
        await page.click("text=Sign out everywhere")
        await page.wait_for_url(re.compile(r"/admin/login$"))
        # Back in with the password and the app's next code (the one used to enrol is spent).
        await page.fill("input[name=email]", email)
        await page.fill("input[name=password]", password)
        await page.click("button[type=submit]")
        await page.wait_for_url(re.compile(r"/admin/login/code$"))
        await page.fill("input[name=code]", pyotp.TOTP(secret).at(time.time() + 30))
        await page.click("button[type=submit]")
        await page.wait_for_selector("text=Today in the shop")
        await browser.close()
    assert all((shots / name).stat().st_size > 5000 for name in (
        "1-sign-in.png", "2-enrol.png", "3-recovery-codes.png", "4-home.png", "5-orders.png",
        "6-order.png", "7-product.png", "8-products.png", "9-categories.png",
        "10-inventory.png", "11-support-requests.png", "12-person.png", "13-live-news.png"))
    _for_sale_in_the_web_chat(base)
    print(f"screenshots in {shots}")


def _teal_png(path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (200, 200), (0, 128, 128)).save(path, "PNG")


def _for_sale_in_the_web_chat(base: str) -> None:
    """The product just made in the console is for sale in the web chat, picture and all:
    a shopper browses to it with the buttons (words find it once the NLU's catalog index
    refreshes, within half a minute)."""
    session: dict[str, str] = {}  # the token, once the server issued it

    def act(action: str) -> list[dict]:
        response = httpx.post(f"{base}/webchat/api/messages", timeout=30, json={
            **session, "action": action})
        session["session"] = response.json()["session"]
        return list(response.json()["replies"])

    def press(replies: list[dict], label: str) -> list[dict]:
        return act(next(b["action"] for r in replies for b in r["buttons"]
                        if b["label"].startswith(label)))

    shelves = press(press(act("cats"), "Home"), "Vases")
    card = press(shelves, "Teal stoneware vase")[0]
    assert "€24.90" in card["text"] and card["image"].startswith(f"{base}/media/")
    assert httpx.get(card["image"], timeout=10).content[:4] == b"\x89PNG"
