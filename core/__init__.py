"""Chatcart's shop: the domains, no chat or HTML."""
