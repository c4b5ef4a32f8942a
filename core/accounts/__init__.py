"""Accounts: users, roles, chat identities, guests, email and password tokens."""
