"""A return's photo from the web chat page in a real browser: the shopper buys in the
chat page, staff ship the order in the console, and the shopper asks for a return and
adds a photo with the page's "Add a photo" control. A file over the cap is refused by
the page without being sent; a file that is no image is refused by the server, in the
chat. Chromium against a real `chatcart demo` server; screenshots go to
test-output/screenshots/returns."""

from __future__ import annotations

import re

import httpx
import pyotp

from tests.browser.test_console_browser import (  # noqa: F401 - fixtures shared
    ARGS,
    SCREENSHOTS,
    chromium,
    server,
)
from tests.e2e.checkout_steps import ADDRESSES
from tests.e2e.test_returns import jpeg

MIB = 1024 * 1024


async def test_a_web_chat_shopper_adds_a_photo_to_a_return(
        chromium: str, server: tuple[str, str, str]):  # noqa: F811 - the fixtures above
    from playwright.async_api import async_playwright

    base, email, password = server
    shots = SCREENSHOTS / "returns"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    uploads: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True,
                                                   args=ARGS)
        page = await (await browser.new_context()).new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("request", lambda request: uploads.append(request.url)
                if "/webchat/api/photos" in request.url else None)

        async def say(text: str, expect: str) -> None:
            await page.fill("#text", text)
            await page.press("#text", "Enter")
            await page.wait_for_selector(f"li.bot >> text={expect}", timeout=10000)

        async def press(label: str, expect: str, exact: bool = False) -> None:
            await page.locator("li.bot").get_by_role("button", name=label,
                                                     exact=exact).last.click()
            await page.wait_for_selector(f"li.bot >> text={expect}", timeout=10000)

        async def add_photo(name: str, data: bytes, mime: str = "image/jpeg") -> None:
            async with page.expect_file_chooser() as chooser:
                await page.get_by_role("button", name="Add a photo").click()
            await (await chooser.value).set_files(
                {"name": name, "mimeType": mime, "buffer": data})

        await page.goto(f"{base}/chat")
        await page.wait_for_selector("li.bot >> text=Welcome", timeout=10000)
        # No return wants a photo yet: the server says so, in the chat.
        await add_photo("mug.jpg", jpeg("blue"))
        await page.wait_for_selector("li.bot >> text=I can take photos while you ask for "
                                     "a return", timeout=10000)

        # The shopper buys a mug in the chat and pays on the test page.
        await say("add 1 blue mug", "Added 1 × Blue mug")
        await say("checkout", "email address")
        await say("ann@example.com", "addressed to")
        for answer in ADDRESSES["FR"]:
            await page.fill("#text", answer)
            await page.press("#text", "Enter")
        await page.click("button:has-text('Same as shipping')")
        await page.click("button:has-text('Standard')")
        await page.locator("li.bot button:has-text('Pay €')").last.click()
        link = page.locator("a[href*='/pay/test/']")
        await link.wait_for(timeout=10000)
        async with httpx.AsyncClient(timeout=10) as payer:
            await payer.post(await link.get_attribute("href") or "", data={"outcome": "pay"})
        confirmed = page.locator("li.bot >> text=is confirmed")
        await confirmed.wait_for(timeout=15000)
        found = re.search(r"CC-[A-Z0-9]+", await confirmed.text_content() or "")
        assert found, await confirmed.text_content()
        number = found.group(0)

        # Staff ship it in the console (signing in with a second factor).
        staff = await (await browser.new_context()).new_page()
        await staff.goto(f"{base}/admin/login")
        await staff.fill("input[name=email]", email)
        await staff.fill("input[name=password]", password)
        await staff.click("button[type=submit]")
        await staff.wait_for_url(re.compile(r"/admin/enrol$"))
        secret = (await staff.text_content("#totp-secret") or "").strip()
        await staff.fill("input[name=code]", pyotp.TOTP(secret).now())
        await staff.click("button[type=submit]")
        await staff.click("text=Continue to the console")
        await staff.click("nav >> text=Orders")
        await staff.click(f"text={number}")
        await staff.fill("input[name=carrier]", "DHL")
        await staff.fill("input[name=tracking]", "JD0146000063")
        await staff.click("form[action$=ship] button")
        await staff.wait_for_selector("h1 >> text=shipped")

        # The shopper asks for a return and adds photos.
        await say("I want to return an item", "Which order")
        await press(number, "Which items")
        await press("Blue mug", "How many")
        await press("1", "returning 1", exact=True)
        await press("Continue", "Why are you returning")
        await press("Arrived damaged", "a few words")
        await say("The handle came off in the box.", "send up to 3")
        assert await page.get_by_role("button", name="Add a photo").is_visible()

        await add_photo("chipped-mug.jpg", jpeg("red"))
        await page.wait_for_selector("li.bot >> text=(1 of 3)", timeout=10000)
        assert await page.locator("li.me img[alt='Your photo']").count() >= 1
        await page.wait_for_timeout(600)  # the log's smooth scroll
        await page.screenshot(path=shots / "1-photo-added.png")
        sent = len(uploads)

        await add_photo("huge.jpg", b"\xff" * (8 * MIB + 1))
        await page.wait_for_selector("li.bot >> text=larger than 8 MB", timeout=5000)
        assert len(uploads) == sent, "a file over the cap is not sent"

        await add_photo("notes.png", b"these are not pixels", mime="image/png")
        await page.wait_for_selector("li.bot >> text=not a readable image", timeout=10000)
        assert len(uploads) == sent + 1
        await page.wait_for_timeout(600)
        await page.screenshot(path=shots / "2-refusals.png")

        await press("Done", "as soon as our team has looked at return")
        await browser.close()
    assert not problems, problems
