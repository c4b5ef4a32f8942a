"""The notification preferences page in a real browser, opened from a real mail: a guest
buys in the web chat of a real `chatcart demo` server (on SQLite and on PostgreSQL) whose
mail goes to a loopback SMTP server; the link in the confirmation's footer opens the page
with no sign-in; the shopper turns news and offers on, order mail off, sets quiet hours
and a time zone, saves, sees it confirmed, and the old link is then not found.
Screenshots go to test-output/screenshots/preferences."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.test_console_browser import ARGS, SCREENSHOTS, chromium  # noqa: F401
from tests.e2e.checkout_steps import buy_with_the_test_gateway
from tests.support.servers import free_port
from tests.support.smtp import SmtpInbox

ROOT = Path(__file__).resolve().parents[2]



@pytest.fixture
def shop_server(database_url: str, inbox: SmtpInbox, tmp_path: Path) -> Iterator[str]:
    """`chatcart demo` on this test's database, mailing to `inbox`: its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(CHATCART_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=database_url,
               CHAT_FLOOD_LIMIT="0", SMTP_URL=inbox.url,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen([sys.executable, "-m", "bot", "demo", "--port", str(port)],
                               cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "demo stopped"
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_shopper_changes_what_we_send_from_the_link_in_a_mail(
        chromium: str, shop_server: str, inbox: SmtpInbox):  # noqa: F811 - the fixture above
    from playwright.async_api import async_playwright

    number = buy_with_the_test_gateway(shop_server)
    (mail,) = await inbox.wait_for(1)
    assert mail.message["Subject"] == f"Order {number} is confirmed"
    found = re.search(r"Choose what we send you, and how: (\S+)", mail.part("plain"))
    assert found and found.group(1).startswith(f"{shop_server}/notifications/")
    link = found.group(1)
    shots = SCREENSHOTS / "preferences"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True,
                                                   args=ARGS)
        page = await (await browser.new_context()).new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda message: problems.append(message.text)  # CSP refusals
                if message.type == "error" and "Failed to load resource" not in message.text
                else None)

        await page.goto(link)
        await page.get_by_role("heading", name="What we send you, and how").wait_for()
        orders_mail = page.get_by_label("Order updates: Email")
        news_mail = page.get_by_label("News and offers: Email")
        assert await orders_mail.is_checked() and not await news_mail.is_checked()
        await page.screenshot(path=shots / "1-opened-from-mail.png", full_page=True)

        await news_mail.check()
        await orders_mail.uncheck()
        await page.get_by_label("Hours").select_option("22-07")
        await page.get_by_label("Time zone, for example Europe/Berlin").fill("Europe/Berlin")
        await page.get_by_role("button", name="Save").click()
        await page.get_by_role("status").filter(has_text="Saved.").wait_for()
        assert await news_mail.is_checked() and not await orders_mail.is_checked()
        assert await page.get_by_label("Hours").input_value() == "22-07"
        assert await page.get_by_label("Time zone, for example Europe/Berlin"
                                       ).input_value() == "Europe/Berlin"
        await page.screenshot(path=shots / "2-saved.png", full_page=True)

        answer = await page.goto(link)  # the link from the mail was spent by the save
        assert answer is not None and answer.status == 404
        await page.get_by_role("heading", name="This link doesn't work any more").wait_for()
        await page.screenshot(path=shots / "3-old-link-not-found.png", full_page=True)
        await browser.close()
    assert problems == []
