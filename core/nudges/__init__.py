"""Nudges to shoppers (back in stock, a cart left behind) and batched alerts to staff."""
