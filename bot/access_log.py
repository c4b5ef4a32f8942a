"""uvicorn's access log without secrets: a request line keeps its method, path and status,
but not what works as a credential.

- Capability paths (a link whose path is the key: the offline gateway's test payment
  page, the signed-link pages DESIGN.md reserves) lose everything after their prefix.
  They are matched on the decoded path, as the router matches them, so `%74est` does not
  slip by.
- Query strings keep their short names and short numbers (`page=2`, `wait=20`); every
  other name or value is starred: a web chat token sent the old way, a gateway's order
  token, a search for someone's email address.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

ACCESS_LOGGER = "uvicorn.access"
CAPABILITY_PATHS = ("/pay/test/", "/privacy/", "/notifications/")
KEPT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,19}")
KEPT_VALUE = re.compile(r"[0-9]{1,6}(\.[0-9]{1,3})?")
HIDDEN = "***"


def redact_target(target: str) -> str:
    """A request target (path and query) fit for a log line."""
    path, mark, query = target.partition("?")
    decoded = unquote(path)
    for prefix in CAPABILITY_PATHS:
        if decoded.startswith(prefix) and len(decoded) > len(prefix):
            path = prefix + HIDDEN
            break
    if not mark:
        return path
    kept = []
    for part in query.split("&"):
        name, equals, value = part.partition("=")
        name = name if KEPT_NAME.fullmatch(name) or not name else HIDDEN
        value = value if KEPT_VALUE.fullmatch(value) or not value else HIDDEN
        kept.append(f"{name}{equals}{value}")
    return f"{path}?{'&'.join(kept)}"


def redact(record: logging.LogRecord) -> bool:
    """A logging filter: rewrites uvicorn's access lines (`'%s - "%s %s HTTP/%s" %d'`, the
    target third), lets every record through."""
    if record.name == ACCESS_LOGGER and isinstance(record.args, tuple) and \
            len(record.args) >= 3 and isinstance(record.args[2], str):
        args = list(record.args)
        args[2] = redact_target(args[2])
        record.args = tuple(args)
    return True
