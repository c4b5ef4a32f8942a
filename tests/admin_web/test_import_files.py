"""The console's catalog import reads no file of the server's: an `image` column in an
uploaded CSV names paths on the server, so every row with one is refused on its line and
nothing is imported (issue 16, item 6). Pictures are added on each product's page."""

from __future__ import annotations

import html
import io
import re
import resource
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from PIL import Image

from core.catalog import service as catalog
from tests.admin_web.console import page_token, signed_in_admin

HEADER = "sku,name,category,price,stock,image\n"
REFUSED = "Pictures cannot be given by path here"


def private_png(folder: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), "crimson").save(buffer, "PNG")
    (folder / "private").mkdir()
    path = folder / "private" / "secret.png"
    path.write_bytes(buffer.getvalue())
    return path


def climb_to_root() -> str:
    """`../` as often as it takes from a folder made in the temporary directory (where an
    upload might be kept) up to the root."""
    return "../" * len(Path(tempfile.gettempdir()).resolve().parts)


async def upload(client: httpx.AsyncClient, csv: str) -> tuple[httpx.Response, str]:
    await signed_in_admin(client)
    token = await page_token(client, "/admin/products/import")
    answer = await client.post("/admin/products/import", data={"csrf": token},
                               files={"file": ("catalog.csv", csv.encode(), "text/csv")})
    return answer, html.unescape(answer.text)


def problems(text: str) -> dict[int, str]:
    """The page's table of problems: line number -> message."""
    return {int(line): message for line, message
            in re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", text)}


async def nothing_imported(client: httpx.AsyncClient, tmp_path: Path) -> None:
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        assert await catalog.get_by_sku(session=session, sku="MUG-1") is None
    media = tmp_path / "data" / "media"
    assert not [p for p in media.rglob("*") if p.is_file()], "nothing reached /media"


@contextmanager
def memory_capped(headroom: int) -> Iterator[None]:
    """This process may grow by `headroom` bytes and no more: a read that never ends fails
    with MemoryError instead of taking the machine's memory."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    in_use = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (in_use + headroom, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


async def test_a_private_picture_named_by_absolute_path_is_not_copied_to_media(client, tmp_path):
    secret = private_png(tmp_path)
    answer, text = await upload(client, HEADER + f"MUG-1,Mug,Kitchen,4.50,3,{secret}\n")
    assert answer.status_code == 400 and "Nothing was imported" in text
    assert f"<td>2</td><td>{REFUSED}" in text
    await nothing_imported(client, tmp_path)


async def test_the_answer_does_not_tell_whether_a_server_file_exists(client, tmp_path):
    secret = private_png(tmp_path)
    answer, text = await upload(client, HEADER + f"MUG-1,Mug,Kitchen,4.50,3,{secret}\n"
                                f"MUG-2,Jug,Kitchen,4.50,3,{tmp_path / 'nothing-here.png'}\n"
                                "MUG-3,Cup,Kitchen,4.50,3,/etc/hostname\n")
    assert answer.status_code == 400
    said = problems(text)
    assert sorted(said) == [2, 3, 4] and len(set(said.values())) == 1, said
    assert said[2].startswith(REFUSED)
    await nothing_imported(client, tmp_path)


async def test_a_dotdot_path_out_of_the_upload_folder_is_not_read(client, tmp_path):
    secret = private_png(tmp_path)
    answer, text = await upload(client, HEADER + f"MUG-1,Mug,Kitchen,4.50,3,"
                                f"{climb_to_root()}{str(secret).lstrip('/')}\n")
    assert answer.status_code == 400 and f"<td>2</td><td>{REFUSED}" in text
    await nothing_imported(client, tmp_path)


async def test_the_process_environment_under_proc_is_not_read(client, tmp_path):
    answer, text = await upload(client, HEADER + "MUG-1,Mug,Kitchen,4.50,3,/proc/self/environ\n")
    assert answer.status_code == 400 and f"<td>2</td><td>{REFUSED}" in text
    assert "not a readable image" not in text, "it was opened and read"
    await nothing_imported(client, tmp_path)


async def test_a_device_that_never_ends_is_not_read(client, tmp_path):
    await signed_in_admin(client)
    token = await page_token(client, "/admin/products/import")
    csv = HEADER + "MUG-1,Mug,Kitchen,4.50,3,/dev/zero\n"
    with memory_capped(768 * 1024 * 1024):
        answer = await client.post("/admin/products/import", data={"csrf": token},
                                   files={"file": ("catalog.csv", csv.encode(), "text/csv")})
    assert answer.status_code == 400 and f"<td>2</td><td>{REFUSED}" in html.unescape(answer.text)
    await nothing_imported(client, tmp_path)
