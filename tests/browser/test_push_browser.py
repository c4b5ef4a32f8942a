"""Web push in the real chat page: Chromium runs chat.js against a real `chatcart demo`.
The page asks nothing on load; after an order is confirmed it offers "Get order updates in
this browser" in the chat, and only that button's click asks for permission and
subscribes, registering the service worker for /chat.

Headless Chromium cannot make a real push subscription (`pushManager.subscribe` fails
with "AbortError: Registration failed - permission denied" even with notifications
granted: it has no push service to register with), so this page's `subscribe` is replaced
by one returning keys made here, as a browser's would be; the real encryption and VAPID
signature are checked against a push-service double in tests/e2e/test_web_push.py."""

from __future__ import annotations

import json

import httpx

from tests.browser.test_console_browser import (  # noqa: F401 - fixtures shared
    ARGS,
    SCREENSHOTS,
    chromium,
    server,
)
from tests.e2e.checkout_steps import ADDRESSES
from tests.support.push import Browser

# Counts every permission request and subscription the page makes; the subscription is
# the stand-in described above.
WATCH = """
window.__asked = 0; window.__subscribed = 0;
const ask = Notification.requestPermission.bind(Notification);
Notification.requestPermission = (...args) => { window.__asked += 1; return ask(...args); };
PushManager.prototype.subscribe = async function (options) {
  window.__subscribed += 1;
  window.__serverKey = options.applicationServerKey.length;
  const made = %s;
  return { endpoint: made.endpoint, toJSON: () => made };
};
"""


async def test_the_page_offers_order_updates_only_after_an_order_and_asks_only_on_click(
        chromium: str, server: tuple[str, str, str]):  # noqa: F811 - the fixtures above
    from playwright.async_api import async_playwright

    base = server[0]
    shots = SCREENSHOTS / "push"
    shots.mkdir(parents=True, exist_ok=True)
    made = Browser("page", "https://fcm.googleapis.com/fcm/send/browser-test").to_json()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True,
                                                   args=ARGS)
        context = await browser.new_context()
        await context.grant_permissions(["notifications"], origin=base)
        await context.add_init_script(WATCH % json.dumps(made))
        page = await context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))

        async def say(text: str, expect: str) -> None:
            await page.fill("#text", text)
            await page.press("#text", "Enter")
            await page.wait_for_selector(f"li.bot >> text={expect}", timeout=10000)

        await page.goto(f"{base}/chat")
        await page.wait_for_selector("li.bot >> text=Welcome", timeout=10000)
        await say("add 2 blue mugs", "Added 2 × Blue mug")
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
        # Up to the order, unpaid: nothing asked, nothing offered.
        assert await page.evaluate("[window.__asked, window.__subscribed]") == [0, 0]
        assert await page.locator("#push-offer").count() == 0
        async with httpx.AsyncClient(timeout=10) as payer:
            await payer.post(await link.get_attribute("href") or "", data={"outcome": "pay"})
        await page.wait_for_selector("li.bot >> text=is confirmed", timeout=15000)

        offer = page.locator("#push-offer")
        await offer.wait_for(timeout=10000)
        assert await offer.text_content() == "Get order updates in this browser"
        assert await page.evaluate("[window.__asked, window.__subscribed]") == [0, 0]
        await page.screenshot(path=shots / "offer.png", full_page=True)

        await offer.click()
        await page.wait_for_selector("li.bot >> text=this browser will tell you", timeout=10000)
        assert await page.evaluate("[window.__asked, window.__subscribed, window.__serverKey]"
                                   ) == [1, 1, 65]
        scope = await page.evaluate(
            "navigator.serviceWorker.getRegistration('/chat').then(r => r && r.scope)")
        assert scope == f"{base}/chat"
        await page.screenshot(path=shots / "subscribed.png", full_page=True)
        token = await page.evaluate("localStorage.getItem('chatcart-session')")

        await page.reload()  # subscribed: not offered again
        await page.wait_for_selector("li.bot >> text=Welcome", timeout=10000)
        await say("my orders", "CC-")
        assert await page.locator("#push-offer").count() == 0
        await browser.close()
    assert not problems, problems
    async with httpx.AsyncClient(base_url=base, timeout=10) as api:  # the server kept it
        ended = await api.request("DELETE", "/webchat/api/push",
                                  json={"endpoint": made["endpoint"]},
                                  headers={"X-Chat-Session": token})
    assert ended.status_code == 200, ended.text
