"""Where return photos are kept: content-addressed files like catalog images (the same
`check_image` decides what is an image), but under the data folder's `private/`, which
the server does not publish: staff see them through the console, nobody else."""

from __future__ import annotations

from core.catalog.images import LocalImageStorage
from core.config import Settings

MAX_PHOTOS = 3  # per return: enough to show the damage, not a photo album


def storage(settings: Settings) -> LocalImageStorage:
    return LocalImageStorage(settings.data_dir / "private", "", folder="returns")
