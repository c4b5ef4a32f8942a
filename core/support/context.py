"""The last turns of a chat before it asks for a person, for the agent to read.

Kept as one sealed token (the shop's Vault) in the chat's own state, so it costs no extra
row per turn and goes when the chat's state expires; it becomes transcript entries
(`support_messages`, context=True) only when a request opens. Its shape and sealing live
here, beside the transcript, so retention, export and erasure find all of it in
core/support.
"""

from __future__ import annotations

from core.crypto import Vault

TURNS = 20          # turns kept: a turn is the shopper's message and the bot's answer
ENTRY_CHARS = 600   # each entry is cut to this


def opened(vault: Vault, token: str | None) -> list[tuple[str, str]]:
    """The kept entries, oldest first, as (author "shopper"|"bot", text)."""
    if not token:
        return []
    try:
        entries = vault.open(token).get("entries", [])
    except ValueError:  # sealed with a key the shop no longer has
        return []
    return [(str(author), str(text)) for author, text in entries]


def pushed(vault: Vault, token: str | None, shopper: str, answers: list[str]) -> str:
    """The token with one more turn, the oldest turns dropped past TURNS."""
    entries = opened(vault, token)
    entries.append(("shopper", shopper[:ENTRY_CHARS]))
    if answers:
        entries.append(("bot", "\n".join(answers)[:ENTRY_CHARS]))
    shopper_turns = [i for i, (author, _) in enumerate(entries) if author == "shopper"]
    if len(shopper_turns) > TURNS:
        entries = entries[shopper_turns[-TURNS]:]
    return vault.seal({"entries": [list(e) for e in entries]})
