"""Live support in real browsers (issue 17): a shopper in the web chat page asks for a
person; an agent signed in to the console hears of it, opens the conversation and answers;
the shopper's next message gets no bot answer and appears on the agent's page by itself
(server-sent events); the agent resolves; the shopper rates, and the rating shows in the
console. Two Chromium contexts (two people) against a real `chatcart demo` server;
screenshots go to test-output/screenshots/support."""

from __future__ import annotations

import re

import pyotp

from tests.browser.test_console_browser import (  # noqa: F401 - fixtures shared
    ARGS,
    SCREENSHOTS,
    chromium,
    server,
)


async def test_an_agent_answers_a_web_chat_shopper_from_the_console_and_is_rated(
        chromium: str, server: tuple[str, str, str]):  # noqa: F811 - the fixtures above
    from playwright.async_api import async_playwright

    base, email, password = server
    shots = SCREENSHOTS / "support"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True,
                                                   args=ARGS)
        agent = await (await browser.new_context()).new_page()
        shopper = await (await browser.new_context()).new_page()
        for page in (agent, shopper):
            page.on("pageerror", lambda error: problems.append(str(error)))

        # The agent signs in first (so someone is online), enrolling a second factor.
        await agent.goto(f"{base}/admin/login")
        await agent.fill("input[name=email]", email)
        await agent.fill("input[name=password]", password)
        await agent.click("button[type=submit]")
        await agent.wait_for_url(re.compile(r"/admin/enrol$"))
        secret = (await agent.text_content("#totp-secret") or "").strip()
        await agent.fill("input[name=code]", pyotp.TOTP(secret).now())
        await agent.click("button[type=submit]")
        await agent.click("text=Continue to the console")
        await agent.click("nav >> text=Support requests")
        await agent.wait_for_selector("text=Nobody is waiting for a person")

        # A shopper asks for a person in the web chat.
        await shopper.goto(f"{base}/chat")
        await shopper.wait_for_selector("li.bot >> text=Welcome", timeout=10000)
        await shopper.fill("#text", "I would like to talk to a person please")
        await shopper.press("#text", "Enter")
        await shopper.wait_for_selector("li.bot >> text=join this chat", timeout=10000)
        await shopper.screenshot(path=shots / "1-shopper-asks.png", full_page=True)

        # The agent's open page hears of it, and the conversation opens from the inbox.
        await agent.wait_for_selector("#news >> text=asking to talk to a person", timeout=10000)
        await agent.click("#news >> text=asking to talk to a person")
        await agent.wait_for_url(re.compile(r"/admin/handoffs$"))
        await agent.screenshot(path=shots / "2-inbox.png", full_page=True)
        await agent.wait_for_selector("table.inbox td:text-is('waiting')")
        await agent.screenshot(path=shots / "2-inbox.png", full_page=True)
        await agent.click("table.inbox a:text-is('Open')")
        await agent.wait_for_url(re.compile(r"/admin/handoffs/\d+$"))
        await agent.wait_for_selector("#state >> text=Waiting for a person.")
        await agent.wait_for_selector(
            "li.entry.shopper >> text=I would like to talk to a person please")
        await agent.fill("#reply-text", "Hello, this is the shop's team. How can I help?")
        await agent.click("#reply button[type=submit]")
        await agent.wait_for_selector("#state >> text=With " + email)
        await agent.wait_for_selector("li.entry.agent >> text=How can I help?")

        # The shopper hears the agent; their next words get no bot answer and reach the
        # agent's page live, without a reload.
        await shopper.wait_for_selector("li.bot >> text=How can I help?", timeout=15000)
        bot_before = await shopper.locator("li.bot").count()
        await shopper.fill("#text", "Do you ship to Norway?")
        await shopper.press("#text", "Enter")
        await agent.wait_for_selector("li.entry.shopper >> text=Do you ship to Norway?",
                                      timeout=10000)
        await shopper.wait_for_timeout(1500)
        assert await shopper.locator("li.bot").count() == bot_before, "the bot stays silent"
        await shopper.screenshot(path=shots / "3-shopper-hears-the-agent.png", full_page=True)
        await agent.fill("#reply-text", "Yes, we do: in 3 to 5 working days.")
        await agent.click("#reply button[type=submit]")
        await shopper.wait_for_selector("li.bot >> text=3 to 5 working days", timeout=15000)
        await agent.fill("#note-text", "Asked about Norway; answered from the shipping page.")
        await agent.click("#note button[type=submit]")
        await agent.wait_for_selector("li.entry.note >> text=Asked about Norway")
        await agent.screenshot(path=shots / "4-conversation.png", full_page=True)

        # The agent resolves; the shopper is handed back and rates.
        await agent.click("form[action$=resolve] button")
        await agent.wait_for_selector("#state >> text=Resolved")
        await shopper.wait_for_selector("li.bot >> text=rate this conversation", timeout=15000)
        await shopper.click("li.bot >> button:text-is('5')")
        await shopper.wait_for_selector("li.bot >> text=Anything you would like to add",
                                        timeout=10000)
        await shopper.fill("#text", "Quick and kind, thank you")
        await shopper.press("#text", "Enter")
        await shopper.wait_for_selector("li.bot >> text=your comment was passed on",
                                        timeout=10000)
        assert "Asked about Norway" not in await shopper.inner_text("body"), "notes stay inside"
        await shopper.screenshot(path=shots / "5-shopper-rates.png", full_page=True)

        await agent.reload()
        await agent.wait_for_selector("text=Rated 5 / 5")
        await agent.wait_for_selector("text=Quick and kind, thank you")
        await agent.screenshot(path=shots / "6-resolved-and-rated.png", full_page=True)
        await agent.click("nav >> text=Support requests")
        await agent.wait_for_selector("table.ratings >> text=5.0")
        await agent.screenshot(path=shots / "7-ratings.png", full_page=True)
        await browser.close()
    assert not problems, problems
    assert all((shots / name).stat().st_size > 5000 for name in (
        "1-shopper-asks.png", "2-inbox.png", "3-shopper-hears-the-agent.png",
        "4-conversation.png", "5-shopper-rates.png", "6-resolved-and-rated.png",
        "7-ratings.png"))
    print(f"screenshots in {shots}")
