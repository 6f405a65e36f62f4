"""`POST /api/{user_id}/chatkit`: the ChatKit protocol endpoint (for `@openai/chatkit-react`
with a custom `api.url`). Streaming requests answer with server-sent events, the others JSON."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from src.api.deps import UserId
from src.chat.deps import ChatKitDep

router = APIRouter(prefix="/api/{user_id}", tags=["chatkit"])


@router.post(
    "/chatkit",
    responses={
        200: {"content": {"text/event-stream": {}, "application/json": {}}},
        404: {"description": "No such thread for this user"},
        422: {"description": "Not a ChatKit request"},
    },
)
async def chatkit(request: Request, _: UserId, server: ChatKitDep) -> Response:
    return await server.answer(await request.body())
