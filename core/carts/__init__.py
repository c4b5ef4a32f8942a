"""Carts: one per guest chat session, one per account; live totals."""
