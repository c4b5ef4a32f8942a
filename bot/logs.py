"""Structured logs: `event key=value ...` lines, never secrets (URLs lose their passwords)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import make_url

from bot import access_log


class KeyValueFormatter(logging.Formatter):
    """`2026-11-24T18:00:00 INFO chatcart server.start database=sqlite redis=off`."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        pairs = " ".join(f"{key}={_quote(value)}" for key, value in fields.items())
        line = (f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} {record.levelname} "
                f"{record.name} {record.getMessage()}" + (f" {pairs}" if pairs else ""))
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _quote(value: object) -> str:
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text


def configure(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # /healthz reads the schema revision through Alembic, which announces itself each time.
    logging.getLogger("alembic.runtime.migration").setLevel(max(root.level, logging.WARNING))
    # aiogram logs a line per update; our own turn and delivery events say more.
    logging.getLogger("aiogram.event").setLevel(max(root.level, logging.WARNING))
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
