"""How our Bot API calls travel: as JSON, which the Bot API accepts for every call that
uploads no file.

aiogram sends each call as a urlencoded form, every nested value (a reply's keyboard) a
JSON string inside it, then escaped for the form: about a tenth of a millisecond a
message more than the JSON body, on every reply. A call with a file still goes as
aiogram's multipart form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiohttp import BytesPayload, FormData

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod


class JsonSession(AiohttpSession):
    def build_form_data(self, bot: Bot, method: TelegramMethod[Any]) -> FormData:
        files: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        # Unset fields (most of every keyboard button's) are left out before aiogram walks
        # what remains, as its form would leave them out after.
        for key, value in method.model_dump(warnings=False, exclude_none=True).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None and prepared != "":
                fields[key] = prepared
        if files:
            return super().build_form_data(bot, method)
        # aiohttp posts any payload given as the form; aiogram only hands it on.
        body = BytesPayload(self.json_dumps(fields).encode(), content_type="application/json")
        return body  # type: ignore[return-value]
