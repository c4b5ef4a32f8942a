"""The checkout walk the journeys share: the same answers on any channel's shopper (each
has `say` and `press`), with an address per country."""

from __future__ import annotations

from typing import Any

ADDRESSES = {
    "FR": ("Ann Lee", "12 Rue de Rivoli", "Paris", "France", "75001", "06 12 34 56 78"),
    "DE": ("Ann Lee", "Kaiserstraße 5", "Berlin", "Germany", "10115", "030 123456"),
    "IT": ("Ann Lee", "Via Roma 1", "Roma", "Italy", "00118", "06 1234 5678"),
    "IE": ("Ann Lee", "1 Main Street", "Dublin", "Ireland", "D02 X285", "+353 1 234 5678"),
    "GB": ("Ann Lee", "1 Main Street", "London", "United Kingdom", "SW1A 1AA",
           "020 7946 0958"),
}


async def to_review(shopper: Any, country: str = "FR", email: str = "ann@example.com") -> None:
    """Two blue mugs in the cart, a guest's checkout answered, standard shipping: the review."""
    await shopper.say("add 2 blue mugs")
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
