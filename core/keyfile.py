"""Secrets generated once into the data dir and kept there (the secret key, the VAPID key).

Several processes may start at once on one data volume: each writes a candidate (0600)
and links it into place; the first link wins and everyone reads the winner, so no two
processes ever run with different keys.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def kept(path: Path, make: Callable[[], bytes]) -> bytes:
    """The contents of `path`, made by `make()` the first time anyone asks."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(make())
    try:
        os.link(candidate, path)
    except FileExistsError:
        pass
    finally:
        candidate.unlink()
    return path.read_bytes()
