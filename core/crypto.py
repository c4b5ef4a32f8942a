"""Encryption at rest for personal data (addresses, phone numbers): Fernet, keyed from
`CHATCART_SECRET_KEY`, so a copy of the database alone does not reveal them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class Vault:
    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(b"chatcart.fernet.v1:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))
        self._lookup_key = hashlib.sha256(b"chatcart.lookup.v1:" + secret_key.encode()).digest()

    def digest(self, text: str) -> str:
        """A keyed digest to look something up by (an email) without keeping it in clear:
        the same text always gives the same digest, and without the key nobody can test
        guesses against it."""
        return hmac.new(self._lookup_key, text.encode("utf-8", "surrogatepass"),
                        hashlib.sha256).hexdigest()[:40]

    def seal(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data, sort_keys=True).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        """The sealed data; a token from another key or tampered with raises ValueError."""
        try:
            return dict(json.loads(self._fernet.decrypt(token.encode())))
        except (InvalidToken, ValueError) as exc:
            raise ValueError("sealed data cannot be read with this key") from exc
