"""`chatcart catalog import FILE` reads pictures from FILE's own folder and nowhere else:
paths are resolved (symlinks too) before they are checked, only regular files are read,
and at most the image size limit of each. A path outside gets the same answer whether or
not something is there (issue 16, item 6). Real processes, real files."""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import SECRET

CHATCART = [sys.executable, "-m", "bot", "catalog", "import"]
HEADER = "sku,name,category,price,stock,image\n"
MEMORY = 1536 * 1024 * 1024  # address space for the command: a read that never ends fails


def png(colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """SQLite only: the files read do not depend on the database."""
    values = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    values.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
                  CHATCART_DATA_DIR=str(tmp_path / "data"), CHATCART_SECRET_KEY=SECRET)
    return values


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The import file's folder; tmp_path/private beside it holds a picture not to read."""
    (tmp_path / "catalog").mkdir()
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.png").write_bytes(png("crimson"))
    return tmp_path / "catalog"


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def import_rows(env: dict[str, str], folder: Path, *rows: str,
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
    csv = folder / "catalog.csv"
    csv.write_text(HEADER + "".join(f"SKU-{n},Item {n},Kitchen,4.50,3,{image}\n"
                                    for n, image in enumerate(rows, start=1)))
    return subprocess.run(CHATCART + [str(csv)], env=env, cwd=folder.parent, text=True,
                          capture_output=True, timeout=timeout, preexec_fn=limited)


def media(env: dict[str, str]) -> list[Path]:
    return [p for p in Path(env["CHATCART_DATA_DIR"], "media").rglob("*") if p.is_file()]


def refused(result: subprocess.CompletedProcess[str], line: int, message: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Nothing was imported" in result.stderr, result.stderr
    assert f"line {line}: {message}" in result.stderr, result.stderr


def test_a_picture_in_the_files_folder_is_imported_also_through_a_symlink(env, folder):
    (folder / "mug.png").write_bytes(png())
    (folder / "pictures").mkdir()
    (folder / "pictures" / "jug.png").write_bytes(png("olive"))
    (folder / "jug.png").symlink_to(folder / "pictures" / "jug.png")
    result = import_rows(env, folder, "mug.png", "jug.png", "./pictures/../mug.png")
    assert result.returncode == 0, result.stderr
    assert "Imported 3 products: 3 created" in result.stdout
    assert len(media(env)) == 2  # two pictures, each stored once (small: no thumbnail)


def test_an_absolute_path_outside_the_folder_is_not_read(env, folder):
    secret = folder.parent / "private" / "secret.png"
    refused(import_rows(env, folder, str(secret)), 2,
            f"The image {str(secret)!r} is not a file in the import file's folder.")
    assert media(env) == []


def test_the_answer_does_not_tell_whether_a_file_outside_exists(env, folder):
    there, absent = folder.parent / "private" / "secret.png", folder.parent / "absent.png"
    result = import_rows(env, folder, str(there), str(absent), "/etc/hostname")
    for line, name in ((2, there), (3, absent), (4, "/etc/hostname")):
        refused(result, line, f"The image {str(name)!r} is not a file in the import file's "
                              "folder.")


def test_a_dotdot_path_out_of_the_folder_is_not_read(env, folder):
    refused(import_rows(env, folder, "../private/secret.png"), 2,
            "The image '../private/secret.png' is not a file in the import file's folder.")
    climb = "../" * len(folder.parts) + str(folder.parent / "private" / "secret.png")[1:]
    refused(import_rows(env, folder, climb), 2,
            f"The image {climb!r} is not a file in the import file's folder.")
    assert media(env) == []


def test_a_symlink_out_of_the_folder_is_not_followed(env, folder):
    (folder / "innocent.png").symlink_to(folder.parent / "private" / "secret.png")
    (folder / "links").symlink_to(folder.parent / "private")
    result = import_rows(env, folder, "innocent.png", "links/secret.png")
    refused(result, 2, "The image 'innocent.png' is not a file in the import file's folder.")
    refused(result, 3, "The image 'links/secret.png' is not a file in the import file's "
                       "folder.")
    assert media(env) == []


def test_the_process_environment_under_proc_is_not_read(env, folder):
    refused(import_rows(env, folder, "/proc/self/environ"), 2,
            "The image '/proc/self/environ' is not a file in the import file's folder.")
    (folder / "environ.png").symlink_to("/proc/self/environ")
    refused(import_rows(env, folder, "environ.png"), 2,
            "The image 'environ.png' is not a file in the import file's folder.")


def test_devices_and_pipes_that_never_end_are_not_read(env, folder):
    (folder / "zero.png").symlink_to("/dev/zero")
    os.mkfifo(folder / "pipe.png")  # no writer: opening it to read would wait for ever
    result = import_rows(env, folder, "/dev/zero", "zero.png", "pipe.png", timeout=60)
    refused(result, 2, "The image '/dev/zero' is not a file in the import file's folder.")
    refused(result, 3, "The image 'zero.png' is not a file in the import file's folder.")
    refused(result, 4, "The image 'pipe.png' is not a regular file.")


def test_a_huge_file_is_read_no_further_than_the_size_limit(env, folder):
    with open(folder / "huge.png", "wb") as huge:  # sparse: 4 GB that take no disk
        huge.write(png())
        huge.truncate(4 * 1024 ** 3)
    refused(import_rows(env, folder, "huge.png"), 2,
            "image 'huge.png': Images may be at most 8 MB.")
