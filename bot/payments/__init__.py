"""The payment side of the HTTP surface: gateway webhooks and the offline test page."""
