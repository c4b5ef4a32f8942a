"""Support: FAQ answers the bot gives, and requests to talk to a person."""
