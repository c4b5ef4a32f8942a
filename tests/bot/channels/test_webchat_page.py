"""The web chat page's photo control agrees with the server it posts to."""

from __future__ import annotations

import re

from bot.channels.webchat import PHOTO_PATH, STATIC
from bot.messages import MAX_UPLOAD


def test_the_pages_photo_cap_is_the_servers():
    script = (STATIC / "chat.js").read_text()
    megabytes = re.search(r"const MAX_PHOTO_MB = (\d+);", script)
    assert megabytes and int(megabytes.group(1)) * 1024 * 1024 == MAX_UPLOAD
    assert "MAX_PHOTO_BYTES = MAX_PHOTO_MB * 1024 * 1024" in script
    assert f'"{PHOTO_PATH}"' in script
    page = (STATIC / "chat.html").read_text()
    assert f"up to {MAX_UPLOAD // (1024 * 1024)} MB" in page


def test_the_photo_control_is_a_labelled_button_and_the_page_has_no_inline_script():
    page = (STATIC / "chat.html").read_text()
    assert re.search(r'<button type="button" id="add-photo"[^>]*>Add a photo</button>', page)
    assert re.search(r'<input id="photo" type="file" accept="image/[^"]+"[^>]* hidden>', page)
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "CSP: no inline script"
    assert not re.search(r"\son[a-z]+=", page), "CSP: no inline handlers"
