"""The shop's chat page in a real browser: Chromium runs chat.js against a real `chatcart
demo` server. The page keeps its chat across a reload, holds its token where scripts on
other sites cannot reach it and never puts it in an address, and hears the confirmation
of an order paid elsewhere through its poll."""

from __future__ import annotations

import re

import httpx

from tests.browser.test_console_browser import (  # noqa: F401 - fixtures shared
    ARGS,
    SCREENSHOTS,
    chromium,
    server,
)
from tests.e2e.checkout_steps import ADDRESSES


async def test_the_chat_page_keeps_its_chat_and_its_token_out_of_every_address(
        chromium: str, server: tuple[str, str, str]):  # noqa: F811 - the fixtures above
    from playwright.async_api import async_playwright

    base = server[0]
    shots = SCREENSHOTS / "chat"
    shots.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True,
                                                   args=ARGS)
        context = await browser.new_context()
        page = await context.new_page()
        addresses: list[str] = []
        polls: list[dict[str, str]] = []
        problems: list[str] = []
        page.on("request", lambda request: addresses.append(request.url))
        page.on("request", lambda request: polls.append(request.headers)
                if request.method == "GET" and "/webchat/api/messages" in request.url
                else None)
        page.on("pageerror", lambda error: problems.append(str(error)))

        async def say(text: str, expect: str) -> None:
            await page.fill("#text", text)
            await page.press("#text", "Enter")
            await page.wait_for_selector(f"li.bot >> text={expect}", timeout=10000)

        await page.goto(f"{base}/chat")
        await page.wait_for_selector("li.bot >> text=Welcome", timeout=10000)
        await say("add 2 blue mugs", "Added 2 × Blue mug")
        token = await page.evaluate("localStorage.getItem('chatcart-session')")
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token or ""), token
        assert "cc_chat" not in await page.evaluate("document.cookie"), "HttpOnly"
        (cookie,) = [c for c in await context.cookies() if c["name"] == "cc_chat"]
        assert cookie["value"] == token and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

        await page.reload()
        await page.wait_for_selector("li.bot >> text=Welcome", timeout=10000)
        await say("show my cart", "2 × Blue mug")
        assert await page.evaluate("localStorage.getItem('chatcart-session')") == token
        await say("checkout", "email address")
        await say("ann@example.com", "addressed to")
        for answer in ADDRESSES["FR"]:
            await page.fill("#text", answer)
            await page.press("#text", "Enter")
        await page.click("button:has-text('Same as shipping')")
        await page.click("button:has-text('Standard')")
        await page.click("button:has-text('Pay €29.90')")
        link = page.locator("a[href*='/pay/test/']")
        await link.wait_for(timeout=10000)
        async with httpx.AsyncClient(timeout=10) as payer:  # on the test page, elsewhere
            paid = await payer.post(await link.get_attribute("href") or "",
                                    data={"outcome": "pay"})
        assert "Test payment done" in paid.text
        await page.wait_for_selector("li.bot >> text=is confirmed", timeout=15000)
        await page.screenshot(path=shots / "confirmed.png", full_page=True)
        await browser.close()
    assert not problems, problems
    assert polls and all(headers.get("x-chat-session") == token for headers in polls)
    assert not [url for url in addresses if token in url or "session=" in url], addresses
