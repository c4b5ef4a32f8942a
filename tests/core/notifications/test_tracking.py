"""A shipped notice links the carrier's tracking page when the carrier is known."""

from core.notifications import tracking


def test_a_known_carrier_gets_its_tracking_page_with_the_number_in_it():
    assert tracking.link(" Royal  Mail ", "AB 123/4") == (
        "https://www.royalmail.com/track-your-item#/tracking-results/AB%20123%2F4")
    assert tracking.link("UPS", "1Z999").startswith("https://www.ups.com/track?tracknum=1Z999")


def test_an_unknown_carrier_or_no_number_gets_no_link():
    assert tracking.link("Bike courier Jo", "17") is None
    assert tracking.link("DHL", "  ") is None
