"""`POST /slack/events`: the Events API and interactivity, handed to bolt (it checks the
signature, answers url_verification, and acknowledges before the work is done).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

MAX_BODY = 1_000_000


def slack_router() -> APIRouter:
    router = APIRouter()

    @router.post("/slack/events")
    async def events(request: Request) -> Response:
        channel = request.app.state.slack
        if channel is None:
            return JSONResponse({"error": "Slack is not configured here."}, status_code=404)
        if len(await request.body()) > MAX_BODY:
            return JSONResponse({"error": "request too large"}, status_code=413)
        response: Response = await channel.handler.handle(request)
        return response

    return router
