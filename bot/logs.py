"""Structured logs: `event key=value ...` lines, never secrets (URLs lose their passwords).

One record is one line: a value (or a library's message) with a newline could forge
lines of its own, and a request body logged whole flooded the log (990 KB in, 990 KB
out). So control characters, quotes and backslashes are escaped, and each value is cut
to `FIELD_CHARS` (a message to `MESSAGE_CHARS`), saying how much was left out.
Tracebacks stay as they are: they are ours, not the sender's.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy.engine import make_url

from bot import access_log

FIELD_CHARS = 300
MESSAGE_CHARS = 2000
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators; in a field's
# value also the quote and the backslash (a message is not parsed, so keeps them).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_IN_FIELDS = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029"\\]')
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escaped(text: str, limit: int, unsafe: re.Pattern[str] = _IN_FIELDS) -> str:
    """`text` on one line, at most about `limit` characters of it."""
    cut = len(text) - limit
    if cut > 0:
        text = text[:limit]
    text = unsafe.sub(_escape, text)
    return f"{text}...(+{cut} chars)" if cut > 0 else text


def excerpt(data: bytes | str, limit: int = 120) -> str:
    """The start of something a stranger sent, fit for a log field."""
    if isinstance(data, bytes):
        data = data[:limit * 4].decode("utf-8", "backslashreplace")
    return data[:limit] + ("..." if len(data) > limit else "")


class KeyValueFormatter(logging.Formatter):
    """`2026-11-24T18:00:00 INFO chatcart server.start database=sqlite redis=off`."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        pairs = " ".join(f"{key}={_quote(value)}" for key, value in fields.items())
        line = (f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} {record.levelname} "
                f"{record.name} {escaped(record.getMessage(), MESSAGE_CHARS, _CONTROLS)}"
                + (f" {pairs}" if pairs else ""))
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _quote(value: object) -> str:
    text = escaped(str(value), FIELD_CHARS)
    return f'"{text}"' if (not text or any(c in text for c in ' "=\\')) else text


def configure(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Warnings (aiogram's about an unknown update prints the update) become log records,
    # so they are escaped and bounded like the rest.
    logging.captureWarnings(True)
    # /healthz reads the schema revision through Alembic, which announces itself each time.
    logging.getLogger("alembic.runtime.migration").setLevel(max(root.level, logging.WARNING))
    # aiogram logs a line per update; our own turn and delivery events say more.
    logging.getLogger("aiogram.event").setLevel(max(root.level, logging.WARNING))
    # twilio's HTTP client logs every request's headers at INFO; bot/notice_sms.py says more.
    logging.getLogger("twilio").setLevel(max(root.level, logging.WARNING))
    # uvicorn's access lines lose tokens and query values (added once: same function).
    logging.getLogger(access_log.ACCESS_LOGGER).addFilter(access_log.redact)


def safe_url(url: str) -> str:
    """A database or Redis URL fit for a log line: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL we cannot parse is not printed at all
        return "(unparsable URL)"


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    logger.log(level, name, extra={"fields": fields})
