"""Where return photos are kept: content-addressed files like catalog images (the same
`check_image` decides what is an image), but under the data folder's `private/`, which
the server does not publish: staff see them through the console, nobody else.

A file is written inside the transaction that records it, so it is removed again when
that transaction (or the savepoint it was written in) is rolled back: no file without a
photo row."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalog.images import ImageStorage, LocalImageStorage
from core.config import Settings

MAX_PHOTOS = 3  # per return: enough to show the damage, not a photo album
PENDING = "returns.photo_files"  # session.info: files written in this transaction
log = logging.getLogger("chatcart.returns")


def storage(settings: Settings) -> LocalImageStorage:
    return LocalImageStorage(settings.data_dir / "private", "", folder="returns")


def remove_on_rollback(session: AsyncSession, files: ImageStorage, key: str) -> None:
    """Delete `key` if the transaction it was written in does not commit."""
    sync = session.sync_session
    written_in = sync.get_nested_transaction() or sync.get_transaction()
    pending: list[tuple[Any, ImageStorage, str]] | None = sync.info.get(PENDING)
    if pending is None:
        pending = sync.info[PENDING] = []
        event.listen(sync, "after_commit", _committed)
        event.listen(sync, "after_soft_rollback", _rolled_back)
    pending.append((written_in, files, key))


def _committed(sync: Any) -> None:
    if sync.get_nested_transaction() is None:  # the whole transaction, not a savepoint
        sync.info.get(PENDING, []).clear()  # the rows stand: so do their files


def _rolled_back(sync: Any, previous: Any) -> None:
    pending = sync.info.get(PENDING, [])
    for entry in list(pending):
        written_in, files, key = entry
        chain = written_in
        while chain is not None and chain is not previous:
            chain = chain.parent
        if chain is None:
            continue  # a later savepoint rolled back, not this file's transaction
        pending.remove(entry)
        try:
            files.delete(key)
        except (OSError, ValueError):
            log.warning("returns.photo_cleanup_failed key=%s", key)
