"""A tracking link for the carriers whose public tracking page takes the number in the URL;
other carriers get the number only."""

from __future__ import annotations

from urllib.parse import quote

PAGES = {
    "dhl": "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?tracking-id={n}",
    "ups": "https://www.ups.com/track?tracknum={n}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={n}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={n}",
    "royal mail": "https://www.royalmail.com/track-your-item#/tracking-results/{n}",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{n}",
    "gls": "https://gls-group.com/track/{n}",
}


def link(carrier: str, number: str) -> str | None:
    page = PAGES.get(" ".join(carrier.lower().split()))
    return page.format(n=quote(number.strip(), safe="")) if page and number.strip() else None
