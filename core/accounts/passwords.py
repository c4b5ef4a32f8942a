"""Password hashing with argon2id, and the minimum a password must be."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.accounts.errors import AccountError
from core.errors import InvalidInput

_hasher = PasswordHasher()
MIN_LENGTH = 10
# Hashing a dummy keeps a login for an unknown email as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-at-all")


def check_strength(password: str, *, email: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(AccountError.PASSWORD_WEAK,
                           f"Please choose a password of at least {MIN_LENGTH} characters.")
    if email and password.lower() == email.lower():
        raise InvalidInput(AccountError.PASSWORD_WEAK, "Your password cannot be your email.")
    if len(set(password)) < 4:
        raise InvalidInput(AccountError.PASSWORD_WEAK, "That password is too easy to guess.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        # An empty hash (an account made by linking a chat) never matches anything.
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
