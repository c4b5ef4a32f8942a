"""The shop's VAPID key pair (RFC 8292): push services accept a message only when it is
signed by the key whose public half the browser subscribed with, so the key is made once
into the data dir (as the secret key is, core.keyfile) and never changes by itself:
a new key would silently orphan every subscription.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core.keyfile import kept

FILE = "vapid_private.pem"


def _new_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def b64(raw: bytes) -> str:
    """base64url without padding, as the Push API spells keys."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class VapidKeys:
    private_pem: bytes
    public_key: str     # the page's applicationServerKey: the uncompressed P-256 point

    @classmethod
    def from_pem(cls, pem: bytes) -> VapidKeys:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError(f"{FILE} must hold a P-256 (prime256v1) private key")
        point = key.public_key().public_bytes(serialization.Encoding.X962,
                                              serialization.PublicFormat.UncompressedPoint)
        return cls(pem, b64(point))


@cache
def keys_in(data_dir: Path) -> VapidKeys:
    """The data dir's key pair, made the first time."""
    return VapidKeys.from_pem(kept(Path(data_dir) / FILE, _new_pem))
