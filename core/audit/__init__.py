"""Audit events: who did what, when, from which channel."""
