"""The Telegram channel: updates in (webhook or long polling), replies out through the sender.

aiogram parses updates and talks to the Bot API; one handler per update type turns
the update into an `Incoming` for the pipeline (no filters: aiogram runs sync filters
in threads, which costs more than the whole turn). A button press answers its
callback and, where the reply says so, edits the message it was on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections import OrderedDict
from dataclasses import dataclass

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    FSInputFile,
    Message,
    Update,
)

from bot import logs
from bot.channels.delivery import (
    InFlight,
    Job,
    Limits,
    Outcome,
    RetryAfter,
    Sender,
    Undeliverable,
)
from bot.channels.pacing import pacing_for
from bot.channels.telegram import responses
from bot.channels.telegram.render import Outgoing, render
from bot.channels.telegram.wire import JsonSession
from bot.messages import MAX_UPLOAD, ChatRef, Delivery, Incoming, Kind, Reply, Upload
from bot.pipeline import Pipeline
from core.config import Settings

log = logging.getLogger("chatcart.telegram")
COMMANDS = [("start", "Start shopping"), ("help", "What I can do"), ("cart", "Your cart"),
            ("orders", "Your orders"), ("support", "Talk to a person"),
            ("link", "Link this chat to your account"),
            ("settings", "What we send you, and how")]
UPDATES = ["message", "callback_query"]
API_TIMEOUT = 20


def webhook_secret(settings: Settings) -> str:
    """The configured secret, else one derived from the shop's key (same in every process)."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    return hmac.new(settings.secret_key.encode(), b"telegram-webhook",
                    hashlib.sha256).hexdigest()


def _image_document(message: Message) -> bool:
    """An image sent "as a file" (uncompressed), which Telegram does not call a photo."""
    document = message.document
    return document is not None and (document.mime_type or "").startswith("image/")


class RegistrationFailed(Exception):
    """Telegram refused a set-up call (bad token, a webhook URL it will not use)."""


@dataclass(frozen=True, slots=True)
class EditTarget:
    message_id: int
    has_photo: bool


class TelegramChannel:
    platform = "telegram"

    def __init__(self, settings: Settings, pipeline: Pipeline | None,
                 limits: Limits | None = None) -> None:
        """`pipeline` None: a channel for registration calls only (the CLI)."""
        assert settings.telegram_bot_token
        if settings.telegram_api_base:
            api = TelegramAPIServer.from_base(settings.telegram_api_base)
            session = JsonSession(api=api, timeout=API_TIMEOUT)
        else:
            session = JsonSession(timeout=API_TIMEOUT)
        self.bot = Bot(settings.telegram_bot_token, session=session, default=DefaultBotProperties(
            parse_mode=ParseMode.HTML, link_preview_is_disabled=True))
        self.pipeline = pipeline
        responses.keep()
        limits = limits or Limits()
        # The bot's token names the count: every process sending for this bot shares it.
        self.sender = Sender(self.platform, limits, pacing_for(
            settings.redis_url, f"telegram:{self.bot.id}", limits))
        self.secret = webhook_secret(settings)
        self.webhook_url = f"{settings.base_url}/telegram/webhook"
        self.source = f"telegram:{self.bot.id}"
        self._media = (f"{settings.base_url}/media/", settings.media_dir.resolve())
        self._photo_ids: OrderedDict[str, str] = OrderedDict()
        self.turns = InFlight()
        self.dispatcher = Dispatcher()
        self.dispatcher.message.register(self._on_message)
        self.dispatcher.callback_query.register(self._on_callback)

    # -- updates in ---------------------------------------------------------------------

    def parse(self, body: object) -> Update:
        """An Update from webhook JSON; raises ValueError for anything else."""
        if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
            raise ValueError("not a Telegram update")
        try:
            return Update.model_validate(body, context={"bot": self.bot})
        except Exception as exc:  # pydantic's ValidationError, and odd nesting
            raise ValueError("not a Telegram update") from exc

    async def process(self, update: Update) -> None:
        """Handle one update to the end of its turn; the replies are queued for sending."""
        await self.dispatcher.feed_update(self.bot, update)

    async def _on_message(self, message: Message, event_update: Update) -> None:
        with self.turns:
            await self._message(message, event_update)

    async def _on_callback(self, query: CallbackQuery, event_update: Update) -> None:
        with self.turns:
            await self._callback(query, event_update)

    async def _message(self, message: Message, event_update: Update) -> None:
        user = message.from_user
        if user is None or user.is_bot:
            return
        text = message.text or message.caption or ""
        if message.chat.type != "private":
            if text.startswith("/"):
                self.sender.submit(str(message.chat.id), [self._job(
                    message.chat.id, Outgoing("I take orders in a private chat: open a chat "
                                              "with me and say hi."))])
            return
        if message.photo or _image_document(message):
            await self._photo_message(message, event_update, user)
            return
        kind = Kind.TEXT
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            text = " ".join((command.split("@", 1)[0], rest)).strip()
            kind = Kind.COMMAND
        incoming = Incoming(self._chat(message.chat.id, user), kind, text=text,
                            delivery=Delivery(self.source, str(event_update.update_id)))
        assert self.pipeline is not None
        answers = await self.pipeline.handle(incoming)
        self.sender.submit(str(message.chat.id), self._jobs(message.chat.id, answers, None))

    async def _photo_message(self, message: Message, event_update: Update,
                             user: object) -> None:
        """A photo (or an image sent as a file) goes to the pipeline as the `retphoto`
        action with its bytes: fetched through the Bot API (getFile, then the file), never
        more than MAX_UPLOAD bytes, and not at all when Telegram says it is larger."""
        upload = await self._download(message)
        incoming = Incoming(self._chat(message.chat.id, user), Kind.ACTION, action="retphoto",
                            text=message.caption or "", files=(upload,) if upload else (),
                            delivery=Delivery(self.source, str(event_update.update_id)))
        assert self.pipeline is not None
        answers = await self.pipeline.handle(incoming)
        self.sender.submit(str(message.chat.id), self._jobs(message.chat.id, answers, None))

    async def _download(self, message: Message) -> Upload | None:
        sent = message.photo[-1] if message.photo else message.document  # the largest size
        if sent is None:
            return None
        if (sent.file_size or 0) > MAX_UPLOAD:
            return Upload(b"", too_large=True)
        try:
            found = await self.bot.get_file(sent.file_id)
            if (found.file_size or 0) > MAX_UPLOAD or not found.file_path:
                return Upload(b"", too_large=bool(found.file_path))
            buffer = await self.bot.download_file(found.file_path, timeout=API_TIMEOUT)
        except (TelegramAPIError, aiohttp.ClientError, TimeoutError) as problem:
            logs.event(log, "telegram.download_failed", logging.WARNING,
                       reason=type(problem).__name__)
            return None
        data = buffer.read(MAX_UPLOAD + 1) if buffer is not None else b""
        return Upload(b"", too_large=True) if len(data) > MAX_UPLOAD else Upload(data)

    async def _callback(self, query: CallbackQuery, event_update: Update) -> None:
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        incoming = Incoming(self._chat(chat_id, query.from_user), Kind.ACTION,
                            action=query.data or "",
                            delivery=Delivery(self.source, str(event_update.update_id)))
        # Answered first, on its own queue: the spinner stops at once, whatever the turn
        # and the chat's messages wait for, and also for a press the flood guard drops.
        answer = Job(lambda: self._answer(query.id), "answerCallbackQuery", paced=False)
        self.sender.submit(f"{chat_id}:answers", [answer])
        assert self.pipeline is not None
        answers = await self.pipeline.handle(incoming)
        # An old message (InaccessibleMessage) cannot be edited: replies come as new ones.
        target = EditTarget(message.message_id, bool(message.photo)) if isinstance(
            message, Message) else None
        self.sender.submit(str(chat_id), self._jobs(chat_id, answers, target))

    async def _answer(self, query_id: str) -> None:
        """Stop a button's spinner. A redelivered press was answered by its first copy, and
        Telegram refuses a second answer (or one too late): nothing is left to do then."""
        with contextlib.suppress(Undeliverable):
            await self._call(self.bot.answer_callback_query(query_id))

    @staticmethod
    def _chat(chat_id: int, user: object) -> ChatRef:
        first = getattr(user, "first_name", "") or ""
        last = getattr(user, "last_name", "") or ""
        return ChatRef("telegram", str(chat_id), str(getattr(user, "id", chat_id)),
                       f"{first} {last}".strip())

    # -- replies out --------------------------------------------------------------------

    def send(self, chat_id: str, answers: list[Reply]) -> asyncio.Future[Outcome]:
        """Messages the shop sends on its own (an order confirmed), queued like replies;
        the future says how they went (the relay marks the outbox by it)."""
        return self.sender.submit(chat_id, self._jobs(int(chat_id), answers, None))

    def _jobs(self, chat_id: int, answers: list[Reply], target: EditTarget | None) -> list[Job]:
        jobs: list[Job] = []
        for reply in answers:
            for out in render(reply):
                edit = target if (out.edit and not jobs and target and not target.has_photo
                                  ) else None
                jobs.append(self._job(chat_id, out, edit))
        return jobs

    def _job(self, chat_id: int, out: Outgoing, edit: EditTarget | None = None) -> Job:
        what = "editMessageText" if edit else ("sendPhoto" if out.photo else "sendMessage")
        return Job(lambda: self._deliver(chat_id, out, edit), what)

    async def _deliver(self, chat_id: int, out: Outgoing, edit: EditTarget | None) -> None:
        if edit is not None:
            try:
                await self._call(self.bot.edit_message_text(
                    chat_id=chat_id, message_id=edit.message_id, text=out.text,
                    reply_markup=out.keyboard))
                return
            except Undeliverable as problem:
                if "not modified" in str(problem):
                    return  # pressing "+" at the stock limit: nothing to change
                # too old or deleted to edit: send it as a new message instead
        if out.photo:
            try:
                sent = await self._call(self.bot.send_photo(
                    chat_id=chat_id, photo=self._photo(out.photo), caption=out.text,
                    reply_markup=out.keyboard))
                if isinstance(sent, Message) and sent.photo:
                    self._remember_photo(out.photo, sent.photo[-1].file_id)
                return
            except Undeliverable as problem:  # Telegram could not fetch or read the picture
                logs.event(log, "telegram.photo_failed", logging.WARNING, reason=str(problem))
        await self._call(self.bot.send_message(chat_id=chat_id, text=out.text,
                                               reply_markup=out.keyboard))

    @staticmethod
    async def _call(request: object) -> object:
        """Await a Bot API call, translating its failures for the sender."""
        try:
            return await request  # type: ignore[misc]
        except TelegramRetryAfter as limit:
            raise RetryAfter(limit.retry_after) from None
        except TelegramForbiddenError as refused:  # blocked, deactivated, kicked: gone
            raise Undeliverable(refused.message, gone=True) from None
        except (TelegramNotFound, TelegramBadRequest, TelegramUnauthorizedError) as refused:
            # A 400 is mostly about this one message (markup, length); "chat not found" is not
            raise Undeliverable(refused.message,
                                gone="chat not found" in refused.message.lower()) from None

    def _photo(self, url: str) -> str | FSInputFile:
        """Telegram's id for a picture sent before, else our own file uploaded, else the URL."""
        if known := self._photo_ids.get(url):
            return known
        prefix, folder = self._media
        if url.startswith(prefix):
            path = (folder / url.removeprefix(prefix)).resolve()
            if path.is_relative_to(folder) and path.is_file():
                return FSInputFile(path)
        return url

    def _remember_photo(self, url: str, file_id: str) -> None:
        self._photo_ids[url] = file_id
        self._photo_ids.move_to_end(url)
        while len(self._photo_ids) > 2000:
            self._photo_ids.popitem(last=False)

    # -- set-up -------------------------------------------------------------------------

    @staticmethod
    def commands() -> list[BotCommand]:
        return [BotCommand(command=name, description=text) for name, text in COMMANDS]

    async def register_commands(self) -> None:
        """The command menu Telegram shows; queued so a slow API does not hold start-up."""
        self.sender.submit("_setup", [Job(
            lambda: self._call(self.bot.set_my_commands(self.commands())), "setMyCommands")])

    async def set_webhook(self) -> None:
        """Ask Telegram to deliver to PUBLIC_BASE_URL/telegram/webhook, and set the commands."""
        try:
            await self.bot.set_webhook(url=self.webhook_url, secret_token=self.secret,
                                       allowed_updates=UPDATES)
            await self.bot.set_my_commands(self.commands())
        except TelegramAPIError as refused:
            raise RegistrationFailed(refused.message) from None

    async def delete_webhook(self) -> None:
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except TelegramAPIError as refused:
            raise RegistrationFailed(refused.message) from None

    async def poll(self) -> None:
        """Long polling (no public URL needed); returns when `stop_polling` is called."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        await self.dispatcher.start_polling(self.bot, handle_signals=False,
                                            close_bot_session=False, allowed_updates=UPDATES,
                                            polling_timeout=25)

    async def close(self) -> None:
        """After polling stopped: let turns under way queue their replies, send, close."""
        await self.turns.idle(10)
        await self.sender.close()
        await self.bot.session.close()

