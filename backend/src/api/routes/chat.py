"""`/api/{user_id}/chat`: one turn with the assistant, as JSON or as a UI message stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from src.agent.choice import is_offline, model_name
from src.api.deps import SettingsDep, UserId
from src.api.responses import AUTHENTICATED, WITH_BODY, ErrorDetail, not_found
from src.chat.deps import ChatDep
from src.chat.errors import AssistantFailed
from src.db.types import ID_MAX
from src.models.conversation import MESSAGE_MAX
from src.models.fields import NOT_BLANK, Text

router = APIRouter(prefix="/api/{user_id}", tags=["chat"], responses=AUTHENTICATED)

VISIBLE_TASKS_MAX = 500
KEEP_ALIVE_SECONDS = 15.0

# Vercel AI SDK's UI message stream protocol, v1 (what `useChat` reads).
UI_MESSAGE_STREAM_HEADERS = {
    "cache-control": "no-cache",
    "connection": "keep-alive",
    "x-vercel-ai-ui-message-stream": "v1",
    "x-accel-buffering": "no",
}


class ChatRequest(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    conversation_id: int | None = Field(
        default=None, ge=1, le=ID_MAX, description="Omit to start a conversation"
    )
    message: Text = Field(min_length=1, max_length=MESSAGE_MAX, json_schema_extra=NOT_BLANK)
    visible_tasks: list[Annotated[int, Field(ge=1, le=ID_MAX)]] | None = Field(
        default=None,
        max_length=VISIBLE_TASKS_MAX,
        description="The task numbers the list shows, in order: what “the first task” counts "
        "over (without it: the open tasks, newest first)",
    )


class ToolCall(BaseModel):
    name: str
    arguments: Any
    result: Any


class ChatResponse(BaseModel):
    conversation_id: int
    response: str
    tool_calls: list[ToolCall]


class TurnFailed(BaseModel):
    detail: str = Field(description="What went wrong, in a sentence; stored as the reply")
    conversation_id: int


# A turn reads a body and may name a conversation; /chat also answers the model's failures.
TURN_RESPONSES: dict[int | str, dict[str, Any]] = {**WITH_BODY, **not_found("conversation")}


class AssistantInfo(BaseModel):
    offline: bool = Field(description="True when the offline assistant answers (no API key)")
    model: str


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        **TURN_RESPONSES,
        502: {"model": TurnFailed, "description": "The model failed or refused the API key"},
        503: {
            "model": ErrorDetail,
            "description": "The database or the auth server's keys are out of reach, or the model "
            "provider is rate-limiting (with `conversation_id`: the turn is stored); see "
            "Retry-After",
        },
        504: {"model": TurnFailed, "description": "The model did not answer in time"},
    },
)
async def chat(_: UserId, body: ChatRequest, chat: ChatDep) -> ChatResponse | JSONResponse:
    turn = await chat.begin(
        conversation_id=body.conversation_id,
        message=body.message,
        visible_tasks=body.visible_tasks,
    )
    try:
        result = await chat.reply(turn)
    except AssistantFailed as exc:
        failure = exc.failure
        return JSONResponse(
            status_code=failure.status,
            content={"detail": failure.notice, "conversation_id": turn.conversation.id},
            headers={"Retry-After": str(failure.retry_after)} if failure.retry_after else None,
        )
    return ChatResponse(
        conversation_id=result.conversation_id,
        response=result.response,
        tool_calls=[ToolCall(**call) for call in result.tool_calls],
    )


@router.post(
    "/chat/stream",
    response_class=StreamingResponse,
    responses={
        **TURN_RESPONSES,
        200: {"content": {"text/event-stream": {}}, "description": "UI message stream"},
    },
)
async def chat_stream(_: UserId, body: ChatRequest, chat: ChatDep) -> StreamingResponse:
    """The same turn as `POST /chat`, streamed as Vercel AI SDK UI message stream v1 (SSE).
    The conversation id is in the `x-conversation-id` header and in the `start` part's
    `messageMetadata`."""
    turn = await chat.begin(
        conversation_id=body.conversation_id,
        message=body.message,
        visible_tasks=body.visible_tasks,
    )
    return StreamingResponse(
        _server_sent_events(chat.stream(turn)),
        media_type="text/event-stream",
        headers={**UI_MESSAGE_STREAM_HEADERS, "x-conversation-id": str(turn.conversation.id)},
    )


async def _server_sent_events(parts: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    """`data:` events, with an SSE comment whenever the model is quiet for a while so proxies
    (the frontend's, an ingress) don't close an idle connection mid-answer."""
    next_part = asyncio.ensure_future(anext(parts))
    try:
        while True:
            done, _ = await asyncio.wait({next_part}, timeout=KEEP_ALIVE_SECONDS)
            if not done:
                yield ": keep-alive\n\n"
                continue
            try:
                part = next_part.result()
            except StopAsyncIteration:
                break
            yield f"data: {json.dumps(part, separators=(',', ':'))}\n\n"
            next_part = asyncio.ensure_future(anext(parts))
        yield "data: [DONE]\n\n"
    finally:
        next_part.cancel()  # the client left; the turn itself carries on and is stored


@router.get("/assistant", response_model=AssistantInfo)
async def assistant(_: UserId, settings: SettingsDep) -> AssistantInfo:
    return AssistantInfo(offline=is_offline(settings), model=model_name(settings))
