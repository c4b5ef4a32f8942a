"""Product images: checked with Pillow, kept behind a storage interface.

The default storage is a local directory served under /media; another backend
(an object store) only has to implement `ImageStorage`.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from core.catalog.errors import CatalogError
from core.errors import InvalidInput

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
ALLOWED = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
THUMB_EDGE = 320  # pixels on the longer side: sharp in a list on a phone, a few KB
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp",
              "image/gif": ".gif"}


@dataclass(frozen=True, slots=True)
class CheckedImage:
    data: bytes
    content_type: str
    width: int
    height: int


def check_image(data: bytes) -> CheckedImage:
    """Accept only real PNG/JPEG/WebP/GIF files of sane size; the type comes from the bytes."""
    if not data:
        raise InvalidInput(CatalogError.IMAGE_INVALID, "The image file is empty.")
    if len(data) > MAX_BYTES:
        raise InvalidInput(CatalogError.IMAGE_INVALID,
                           f"Images may be at most {MAX_BYTES // (1024 * 1024)} MB.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise InvalidInput(CatalogError.IMAGE_INVALID, "That image is too large.")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise InvalidInput(CatalogError.IMAGE_INVALID,
                           "That file is not a readable image.") from None
    if kind not in ALLOWED:
        raise InvalidInput(CatalogError.IMAGE_INVALID,
                           "Images must be PNG, JPEG, WebP or GIF.")
    return CheckedImage(data, ALLOWED[kind], width, height)


def thumbnail(image: CheckedImage, edge: int = THUMB_EDGE) -> CheckedImage:
    """A small WebP copy for lists, turned upright by its EXIF orientation; the image
    itself when it is already small and upright. Decoding happens here, so a file whose
    headers read well but whose pixels do not (a cut-off JPEG) is refused here."""
    try:
        with Image.open(io.BytesIO(image.data)) as opened:
            turned = opened.getexif().get(ExifTags.Base.Orientation, 1) != 1
            if max(opened.size) <= edge and not turned:
                opened.load()
                return image
            opened.draft("RGB", (edge * 2, edge * 2))  # JPEG decodes at a fraction of its size
            upright = ImageOps.exif_transpose(opened)  # the first frame of an animation
            alpha = "A" in upright.getbands() or "transparency" in upright.info
            small = upright.convert("RGBA" if alpha else "RGB")
            small.thumbnail((edge, edge), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            small.save(out, format="WEBP", quality=82, method=4)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise InvalidInput(CatalogError.IMAGE_INVALID,
                           "That file is not a readable image.") from None
    return CheckedImage(out.getvalue(), "image/webp", small.width, small.height)


class ImageStorage(Protocol):
    def key_for(self, image: CheckedImage) -> str: ...
    def exists(self, key: str) -> bool: ...
    def save(self, image: CheckedImage) -> str: ...
    def read(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def url(self, key: str) -> str: ...


class LocalImageStorage:
    """Files named by their content hash: saving the same image twice stores it once."""

    def __init__(self, directory: Path, base_url: str, folder: str = "products") -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/")
        self.folder = folder  # the first part of every key

    def _path(self, key: str) -> Path:
        path = (self.directory / key).resolve()
        if self.directory.resolve() not in path.parents:
            raise ValueError(f"storage key escapes the media directory: {key!r}")
        return path

    def key_for(self, image: CheckedImage) -> str:
        """The key `save` stores this image under (known before anything is written)."""
        digest = hashlib.sha256(image.data).hexdigest()
        return f"{self.folder}/{digest[:2]}/{digest}{EXTENSIONS[image.content_type]}"

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def save(self, image: CheckedImage) -> str:
        key = self.key_for(image)
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(image.data)
            temporary.replace(path)
        return key

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def url(self, key: str) -> str:
        return f"{self.base_url}/{key}"
