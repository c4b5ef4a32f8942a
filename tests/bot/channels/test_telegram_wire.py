"""Bot API calls go as JSON bodies; a call uploading a file stays a multipart form."""

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import FSInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from PIL import Image

from bot.channels.telegram.wire import JsonSession
from tests.support.platforms import BOT_TOKEN, FakeTelegram


async def test_calls_are_json_and_uploads_are_forms(tmp_path) -> None:
    picture = tmp_path / "mug.png"
    Image.new("RGB", (8, 8), "teal").save(picture)
    async with FakeTelegram() as api:
        bot = Bot(BOT_TOKEN, session=JsonSession(api=TelegramAPIServer.from_base(api.url)),
                  default=DefaultBotProperties(parse_mode=ParseMode.HTML,
                                               link_preview_is_disabled=True))
        try:
            keyboard = InlineKeyboardMarkup(inline_keyboard=[[
                InlineKeyboardButton(text="Menü ✓", callback_data="menu"),
                InlineKeyboardButton(text="Shop", url="https://shop.example/")]])
            sent = await bot.send_message(chat_id=42, text="<b>Hi</b> & ü", reply_markup=keyboard)
            await bot.send_photo(chat_id=42, photo=FSInputFile(picture), caption="A mug")
        finally:
            await bot.session.close()
    message, photo = api.calls
    assert message.content_type == "application/json"
    assert message.params == {
        "chat_id": 42, "text": "<b>Hi</b> & ü", "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True}, "disable_web_page_preview": True,
        "reply_markup": {"inline_keyboard": [[{"text": "Menü ✓", "callback_data": "menu"},
                                              {"text": "Shop", "url": "https://shop.example/"}]]}}
    assert sent.message_id and sent.text == "<b>Hi</b> & ü", "the answer is read as ever"
    assert photo.content_type == "multipart/form-data"
    assert photo.params["photo"].startswith("attach://") and photo.params["_uploaded"]
    assert photo.params["caption"] == "A mug"
