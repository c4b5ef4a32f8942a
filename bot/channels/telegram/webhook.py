"""`POST /telegram/webhook`: Telegram's secret header checked, the update handled, 200.
The body is read within bounds (bot.bodies): a deeply nested update is refused before
pydantic recurses into it."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from bot.bodies import BadBody, read_json

MAX_BODY = 1_000_000
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def telegram_router() -> APIRouter:
    """The route reads the channel the composition root put on `app.state.telegram`."""
    router = APIRouter()

    @router.post("/telegram/webhook")
    async def webhook(request: Request) -> Response:
        channel = request.app.state.telegram
        if channel is None:
            return JSONResponse({"error": "Telegram is not configured here."}, status_code=404)
        given = request.headers.get(HEADER, "")
        if not hmac.compare_digest(given.encode(), channel.secret.encode()):
            return JSONResponse({"error": "bad secret token"}, status_code=401)
        try:
            update = channel.parse(await read_json(request, MAX_BODY, "An update"))
        except BadBody as bad:
            return bad.response()
        except ValueError:
            return JSONResponse({"error": "not a Telegram update"}, status_code=400)
        # Handled before answering, so Telegram sends a chat's next update after this one.
        # A turn that fails is rolled back (its receipt too) and the shopper is told; the
        # receipt claimed in the turn keeps a redelivered copy from acting twice.
        await channel.process(update)
        return JSONResponse({"ok": True})

    return router
