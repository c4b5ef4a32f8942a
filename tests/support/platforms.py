"""Local stand-ins for Telegram's Bot API and Slack's Web API that record every call.

They answer the way the real APIs do (the shapes of their documentation), so the
bots under test cannot tell the difference; each test reads the calls the bot made.
A test can also make the next calls of a method fail (a 429 with retry_after, a 5xx)
or make one chat slow.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7001002003
BOT_TOKEN = f"{BOT_ID}:AAE-test-token-abcdefghijklmnopqrstuvw"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    content_type: str = ""

    @property
    def chat(self) -> str:
        return str(self.params.get("chat_id") or self.params.get("channel") or "")

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")


@dataclass
class Failure:
    method: str
    times: int
    status: int
    retry_after: int = 0
    error: str = ""   # Slack's error name (with status 200, as Slack answers most refusals)


class RecordingServer:
    """An aiohttp server on a free loopback port; `url` is its root."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.slow: dict[str, float] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> RecordingServer:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def fail(self, method: str, times: int = 1, status: int = 429, retry_after: int = 1,
             error: str = "") -> None:
        self.failures.append(Failure(method, times, status, retry_after, error))

    def _failure(self, method: str) -> Failure | None:
        for failure in self.failures:
            if failure.method == method and failure.times > 0:
                failure.times -= 1
                return failure
        return None

    def of(self, *methods: str, chat: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method in methods and (chat is None or c.chat == chat)]

    async def wait_for(self, check: Callable[[], Any], seconds: float = 10.0) -> Any:
        """Until `check()` is truthy (replies are sent in the background)."""
        deadline = time.monotonic() + seconds
        while True:
            if result := check():
                return result
            if time.monotonic() > deadline:
                shown = [(c.method, c.chat, c.text[:60]) for c in self.calls[-15:]]
                raise AssertionError(f"timed out; last calls were {shown}")
            await asyncio.sleep(0.01)


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class FakeTelegram(RecordingServer):
    """Telegram's Bot API at `url` (use as TELEGRAM_API_BASE)."""

    def __init__(self) -> None:
        super().__init__()
        self._message_ids = itertools.count(500)
        self.messages: dict[tuple[str, int], dict[str, Any]] = {}
        self.updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.files: dict[str, bytes] = {}  # file_id -> what a shopper sent (getFile, download)

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)

    def upload(self, data: bytes) -> dict[str, Any]:
        """A file a shopper sends: kept here, described as a message's PhotoSize is."""
        file_id = f"AgAD-sent-{len(self.files) + 1}"
        self.files[file_id] = data
        return {"file_id": file_id, "file_unique_id": f"s{len(self.files)}", "width": 800,
                "height": 600, "file_size": len(data)}

    async def _file(self, request: web.Request) -> web.Response:
        """The Bot API's file download: /file/bot<token>/<file_path from getFile>."""
        self.calls.append(Call("downloadFile", {"path": request.match_info["path"]}))
        file_id = request.match_info["path"].removeprefix("photos/")
        if request.match_info["token"] != BOT_TOKEN or file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != BOT_TOKEN:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        if request.method == "GET":
            params = {}
        elif request.content_type == "application/json":
            params = await request.json()
        else:
            form = await request.post()
            params = {k: (v.filename if isinstance(v, web.FileField) else _decode(v))
                      for k, v in form.items()}
            uploads = {k for k, v in form.items() if isinstance(v, web.FileField)}
            if uploads:
                params["_uploaded"] = sorted(uploads)
        self.calls.append(Call(method, params, content_type=request.content_type))
        if (delay := self.slow.get(str(params.get("chat_id")))) is not None:
            await asyncio.sleep(delay)
        if failure := self._failure(method):
            return self._error(failure)
        return web.json_response({"ok": True, "result": await self._result(method, params)})

    @staticmethod
    def _error(failure: Failure) -> web.Response:
        if failure.status == 429:
            body = {"ok": False, "error_code": 429,
                    "description": f"Too Many Requests: retry after {failure.retry_after}",
                    "parameters": {"retry_after": failure.retry_after}}
        elif failure.status == 403:
            body = {"ok": False, "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user"}
        elif failure.status == 400:
            body = {"ok": False, "error_code": 400, "description": failure.error or (
                "Bad Request: can't parse entities: Can't find end of the entity starting "
                "at byte offset 7")}
        else:
            body = {"ok": False, "error_code": failure.status,
                    "description": "Internal Server Error"}
        return web.json_response(body, status=failure.status)

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Shop",
                    "username": "chatcart_test_bot", "can_join_groups": True,
                    "can_read_all_group_messages": False, "supports_inline_queries": False}
        if method in ("sendMessage", "sendPhoto"):
            chat = str(params["chat_id"])
            message: dict[str, Any] = {
                "message_id": next(self._message_ids), "date": int(time.time()),
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Shop",
                         "username": "chatcart_test_bot"},
                "chat": {"id": int(chat), "type": "private", "first_name": "Ann"}}
            if method == "sendPhoto":
                message["photo"] = [{"file_id": f"AgAC-photo-{message['message_id']}",
                                     "file_unique_id": f"u{message['message_id']}",
                                     "width": 640, "height": 640, "file_size": 20000}]
                message["caption"] = params.get("caption", "")
            else:
                message["text"] = params.get("text", "")
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            self.messages[(chat, message["message_id"])] = message
            return message
        if method == "editMessageText":
            key = (str(params["chat_id"]), int(params["message_id"]))
            message = self.messages.get(key)
            if message is None:
                return self._bad("Bad Request: message to edit not found")
            if message.get("text") == params.get("text") and message.get(
                    "reply_markup") == params.get("reply_markup"):
                return self._bad("Bad Request: message is not modified: specified new message "
                                 "content and reply markup are exactly the same")
            message["text"] = params.get("text", "")
            message["reply_markup"] = params.get("reply_markup")
            message["edit_date"] = int(time.time())
            return message
        if method == "getFile":
            file_id = str(params.get("file_id"))
            if file_id not in self.files:
                return self._bad("Bad Request: invalid file_id")
            return {"file_id": file_id, "file_unique_id": f"u-{file_id}",
                    "file_size": len(self.files[file_id]), "file_path": f"photos/{file_id}"}
        if method == "getUpdates":
            try:
                update = await asyncio.wait_for(self.updates.get(), 0.5)
            except TimeoutError:
                return []
            return [update]
        return True

    @staticmethod
    def _bad(description: str) -> Any:
        raise web.HTTPBadRequest(text=json.dumps(
            {"ok": False, "error_code": 400, "description": description}),
            content_type="application/json")


class FakeSlack(RecordingServer):
    """Slack's Web API under `url + "/api/"` (use that as SLACK_API_BASE)."""

    BOT_USER = "UBOT0001"

    def __init__(self) -> None:
        super().__init__()
        self._ts = itertools.count(1)
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.socket: web.WebSocketResponse | None = None
        self.socket_acks: list[dict[str, Any]] = []
        self._socket_ready = asyncio.Event()
        # The workspace's people for users.info: user id -> profile fields (email, name)
        # and flags (team_id, deleted, is_bot, is_restricted, is_ultra_restricted,
        # is_stranger, is_email_confirmed).
        self.people: dict[str, dict[str, Any]] = {}
        # Files shoppers shared: file id -> (bytes, sent without a Content-Length).
        self.files: dict[str, tuple[bytes, bool]] = {}

    @property
    def api(self) -> str:
        return f"{self.url}/api/"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)  # users.info and other reads
        app.router.add_get("/socket-mode", self._socket)
        app.router.add_get("/files-pri/{team}-{file_id}/download/{name}", self._file)

    def upload(self, data: bytes, name: str = "IMG_0001.jpg", mimetype: str = "image/jpeg",
               size: int | None = None, streamed: bool = False,
               host: str | None = None) -> dict[str, Any]:
        """A file a shopper shares, kept here and described as a `file_share` event's
        `files[]` entry is. `size` may lie (Slack's word against the bytes), `streamed`
        sends it without a Content-Length, and `host` puts another origin in its URLs."""
        file_id = f"F0SHARED{len(self.files) + 1:04d}"
        self.files[file_id] = (data, streamed)
        root = host or self.url
        return {"id": file_id, "created": int(time.time()), "timestamp": int(time.time()),
                "name": name, "title": name, "mimetype": mimetype,
                "filetype": name.rsplit(".", 1)[-1], "user": "U0ANN", "user_team": "T0SHOP",
                "editable": False, "size": len(data) if size is None else size,
                "mode": "hosted", "is_external": False, "external_type": "",
                "is_public": False, "public_url_shared": False, "display_as_bot": False,
                "url_private": f"{root}/files-pri/T0SHOP-{file_id}/{name}",
                "url_private_download": f"{root}/files-pri/T0SHOP-{file_id}/download/{name}",
                "permalink": f"https://shop.slack.com/files/U0ANN/{file_id}/{name}"}

    async def _file(self, request: web.Request) -> web.StreamResponse:
        """files.slack.com: a shared file, for the bot token only (Slack answers others
        with its sign-in page, a 200 of HTML)."""
        file_id = request.match_info["file_id"]
        self.calls.append(Call("files.download", {"file": file_id,
                                                  "host": request.host}))
        if request.headers.get("Authorization") != "Bearer xoxb-test-token":
            return web.Response(text="<html>Sign in to Slack</html>", content_type="text/html")
        if file_id not in self.files:
            return web.Response(status=404)
        data, streamed = self.files[file_id]
        if not streamed:
            return web.Response(body=data, content_type="application/octet-stream")
        response = web.StreamResponse()
        response.content_type = "application/octet-stream"
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, len(data), 65536):
                await response.write(data[start:start + 65536])
        except (ConnectionResetError, RuntimeError):
            pass  # the app stopped reading: what a cap is for
        return response

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: Slack says hello, sends envelopes, and reads the app's acks."""
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1,
                                "connection_info": {"app_id": "A0SHOP"}})
        self.socket = socket
        self._socket_ready.set()
        async for frame in socket:
            if frame.type.name == "TEXT":
                self.socket_acks.append(json.loads(frame.data))
        return socket

    async def send_envelope(self, payload: dict[str, Any], envelope_id: str) -> None:
        await asyncio.wait_for(self._socket_ready.wait(), 10)
        assert self.socket is not None
        await self.socket.send_json({"envelope_id": envelope_id, "type": "events_api",
                                     "payload": payload, "accepts_response_payload": False,
                                     "retry_attempt": 0, "retry_reason": ""})

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        token = "Bearer xapp-" if method == "apps.connections.open" else "Bearer xoxb-test-token"
        if not request.headers.get("Authorization", "").startswith(token):
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if request.method == "GET":
            params = {}
        elif request.content_type == "application/json":
            params = await request.json()
        else:
            params = {k: _decode(v) for k, v in (await request.post()).items()}
        params = {**request.query, **params}  # Slack takes arguments in the query string too
        self.calls.append(Call(method, params))
        if (delay := self.slow.get(str(params.get("channel")))) is not None:
            await asyncio.sleep(delay)
        if failure := self._failure(method):
            if failure.status == 429:
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": str(failure.retry_after)})
            return web.json_response({"ok": False, "error": failure.error or "fatal_error"},
                                     status=failure.status)
        return web.json_response({"ok": True, **self._result(method, params)})

    def _result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"url": "https://shop.slack.com/", "team": "Shop", "user": "chatcart",
                    "team_id": "T0SHOP", "user_id": self.BOT_USER, "bot_id": "B0SHOP",
                    "is_enterprise_install": False}
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            message = {"type": "message", "user": self.BOT_USER, "bot_id": "B0SHOP", "ts": ts,
                       "text": params.get("text", ""), "blocks": params.get("blocks", [])}
            if params.get("thread_ts"):
                message["thread_ts"] = str(params["thread_ts"])
            self.messages[(str(params["channel"]), ts)] = message
            return {"channel": params["channel"], "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"message_ts": f"1700000000.{next(self._ts):06d}"}
        if method == "chat.delete":
            self.messages.pop((str(params["channel"]), str(params["ts"])), None)
            return {"channel": params["channel"], "ts": params["ts"]}
        if method == "conversations.history":
            key = (str(params["channel"]), str(params.get("latest")))
            return {"messages": [self.messages[key]] if key in self.messages else [],
                    "has_more": False}
        if method == "users.info":
            person = self.people.get(str(params.get("user")))
            if person is None:
                return {"ok": False, "error": "user_not_found"}
            flags = ("deleted", "is_bot", "is_restricted", "is_ultra_restricted")
            user = {"id": params["user"], "team_id": person.get("team_id", "T0SHOP"),
                    **{flag: person.get(flag, False) for flag in flags},
                    "profile": {"email": person.get("email"),
                                "real_name": person.get("name", "")}}
            for given in ("is_stranger", "is_email_confirmed"):  # only where Slack says it
                if given in person:
                    user[given] = person[given]
            return {"user": user}
        if method == "chat.update":
            key = (str(params["channel"]), str(params["ts"]))
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            self.messages[key].update(text=params.get("text", ""),
                                      blocks=params.get("blocks", []))
            return {"channel": params["channel"], "ts": params["ts"],
                    "text": params.get("text", "")}
        if method == "apps.connections.open":
            return {"url": self.url.replace("http://", "ws://") + "/socket-mode"}
        if method == "conversations.open":
            return {"channel": {"id": "D" + str(params.get("users", "")).lstrip("U")}}
        return {}
