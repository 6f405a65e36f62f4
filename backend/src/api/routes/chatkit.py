"""`POST /api/{user_id}/chatkit`: the ChatKit protocol endpoint (for `@openai/chatkit-react`
with a custom `api.url`). Streaming requests answer with server-sent events, the others JSON."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from src.api.deps import UserId
from src.api.responses import AUTHENTICATED, WITH_BODY, not_found
from src.chat.deps import ChatKitDep

router = APIRouter(prefix="/api/{user_id}", tags=["chatkit"], responses=AUTHENTICATED)


class ChatKitFieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ChatKitRefused(BaseModel):
    detail: list[ChatKitFieldError]


# The body is read by the ChatKit server, not by FastAPI: its shape is ChatKit's protocol,
# which the chatkit package defines and validates.
CHATKIT_REQUEST = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {"type": "string", "examples": ["threads.create", "threads.list"]},
                    "params": {"type": "object"},
                },
                "description": "A ChatKit request as `@openai/chatkit` sends it; messages "
                "follow `/chat`'s rules (at most 4,000 characters, no NUL), list `limit` is "
                "1–100",
            }
        }
    },
}


@router.post(
    "/chatkit",
    openapi_extra={"requestBody": CHATKIT_REQUEST},
    responses={
        **not_found("thread"),
        413: WITH_BODY[413],
        200: {"content": {"text/event-stream": {}, "application/json": {}}},
        422: {"model": ChatKitRefused, "description": "Not a ChatKit request, or past a limit"},
    },
)
async def chatkit(request: Request, _: UserId, server: ChatKitDep) -> Response:
    return await server.answer(await request.body())
