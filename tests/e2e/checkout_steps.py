"""The checkout walk the journeys share: the same answers on any channel's shopper (each
has `say` and `press`), with an address per country."""

from __future__ import annotations

from typing import Any

import httpx

ADDRESSES = {
    "FR": ("Ann Lee", "12 Rue de Rivoli", "Paris", "France", "75001", "06 12 34 56 78"),
    "DE": ("Ann Lee", "Kaiserstraße 5", "Berlin", "Germany", "10115", "030 123456"),
    "IT": ("Ann Lee", "Via Roma 1", "Roma", "Italy", "00118", "06 1234 5678"),
    "IE": ("Ann Lee", "1 Main Street", "Dublin", "Ireland", "D02 X285", "+353 1 234 5678"),
    "GB": ("Ann Lee", "1 Main Street", "London", "United Kingdom", "SW1A 1AA",
           "020 7946 0958"),
}


async def to_review(shopper: Any, country: str = "FR", email: str = "ann@example.com",
                    items: str = "2 blue mugs") -> None:
    """Two blue mugs (or `items`) in the cart, a guest's checkout answered, standard
    shipping: the review."""
    await shopper.say(f"add {items}")
    await shopper.press("Checkout")
    await shopper.say(email)
    for answer in ADDRESSES[country]:
        await shopper.say(answer)
    await shopper.press("Same as shipping")
    await shopper.press("Standard")


async def place(shopper: Any, country: str = "FR", pay: str = "Pay €29.90") -> str:
    """Through the review to the payment link (web chat shopper); the order's number."""
    await to_review(shopper, country)
    await shopper.press(pay)
    return str(shopper.text.split("Order ")[1].split(" ")[0])


def buy_with_the_test_gateway(base: str) -> str:
    """The demo's promise: shop in the web chat, pay on the test page, see it confirmed.
    The payment link must reach the server as started. Returns the order number."""
    chat = httpx.Client(base_url=base, timeout=30)
    session: dict[str, str] = {}  # the token, once the server issued it

    def post(**body: str) -> list[dict]:
        response = chat.post("/webchat/api/messages", json={**session, **body})
        assert response.status_code == 200, response.text
        session["session"] = response.json()["session"]
        return response.json()["replies"]

    def press(replies: list[dict], label: str) -> list[dict]:
        action = next(b["action"] for r in replies for b in r["buttons"]
                      if b["label"].startswith(label))
        return post(action=action)

    post(text="add 2 blue mugs")
    post(text="checkout")
    for answer in ("ann@example.com", "Ann Lee", "12 Rue de Rivoli", "Paris", "France",
                   "75001", "06 12 34 56 78"):
        replies = post(text=answer)
    replies = press(press(replies, "Same as shipping"), "Standard")
    replies = press(replies, "Pay €29.90")
    url = replies[0]["links"][0]["url"]
    assert url.startswith(f"{base}/pay/test/")
    assert "TEST PAYMENT" in httpx.get(url, timeout=10).text
    assert "Test payment done" in httpx.post(url, data={"outcome": "pay"}, timeout=10).text
    news = chat.get("/webchat/api/messages", params={"wait": 10},
                    headers={"X-Chat-Session": session["session"]})
    text = news.json()["replies"][0]["text"]
    assert "is confirmed" in text
    return text.split("Order ")[1].split(" ")[0]
