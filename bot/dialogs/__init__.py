"""Multi-turn pieces of a conversation: what "it" and "the second one" refer to, and flows."""
