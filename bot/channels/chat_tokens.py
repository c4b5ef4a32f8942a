"""Web chat session tokens: the server issues them and the client shows them (DESIGN.md's
contract), because a chat's token is what lets someone read its replies (an order
confirmation carries a name and an address).

A token is 16 random bytes followed by a 16-byte HMAC-SHA256 of them under a key derived
from `CHATCART_SECRET_KEY`, base64url: 43 characters. Every process holding the key checks
a token on its own, with no shared memory and no lookup; a guessed, client-chosen or
tampered token, or one from another key, fails the MAC.

Inside the shop a chat is named by a keyed hash of its token (ChatRef, chat state, the
outbox's `web:<id>`, logs), so the database and the logs hold no token, and an id seen
there does not work as one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

RANDOM_BYTES = 16
MAC_BYTES = 16
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes in base64url without padding


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class ChatTokens:
    def __init__(self, secret_key: str) -> None:
        root = secret_key.encode()
        self._mac_key = hmac.digest(root, b"chatcart.webchat.token.v1", hashlib.sha256)
        self._id_key = hmac.digest(root, b"chatcart.webchat.chat-id.v1", hashlib.sha256)

    def _mac(self, nonce: bytes) -> bytes:
        return hmac.digest(self._mac_key, nonce, hashlib.sha256)[:MAC_BYTES]

    def issue(self) -> str:
        """A new chat's token."""
        nonce = secrets.token_bytes(RANDOM_BYTES)
        return _b64(nonce + self._mac(nonce))

    def chat_id(self, token: object) -> str | None:
        """The id of the chat `token` opens; None for anything this key did not issue."""
        if not isinstance(token, str) or not TOKEN.fullmatch(token):
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=")
        except (binascii.Error, ValueError):
            return None
        if _b64(raw) != token:  # one spelling per token: the unused low bits must be zero
            return None
        nonce, mac = raw[:RANDOM_BYTES], raw[RANDOM_BYTES:]
        if not hmac.compare_digest(mac, self._mac(nonce)):
            return None
        return hmac.digest(self._id_key, nonce, hashlib.sha256)[:16].hex()
