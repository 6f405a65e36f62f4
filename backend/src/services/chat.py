"""One chat turn, stateless: load the history, store the user's message, run the agent with the
app's MCP tools (reached in-process, acting as the request's verified user), store the reply and
its tool calls.

Database sessions are short and never held while the model thinks: the tools the agent calls
open their own, and a pool connection held across a model call would starve them under load.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from agents import Agent, Model, Runner, RunResultStreaming
from agents.items import MessageOutputItem, RunItem, ToolCallItem, ToolCallOutputItem
from agents.stream_events import RawResponsesStreamEvent, RunItemStreamEvent, StreamEvent
from openai.types.responses import ResponseCreatedEvent, ResponseTextDeltaEvent
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.types import ASGIApp

from src.agent import build_agent
from src.db.errors import DATABASE_UNAVAILABLE, is_database_outage
from src.mcp.client import agent_mcp_server
from src.mcp.server import acting_as
from src.models.conversation import Conversation, Message, Role
from src.services import conversations
from src.services.conversations import ConversationNotFound

log = logging.getLogger(__name__)

HISTORY_MESSAGES = 40
MAX_AGENT_TURNS = 12


class AssistantFailed(Exception):
    """The model or the agent loop failed; the user's message is kept, no reply is stored."""


@dataclass
class TurnContext:
    """Everything a turn needs besides the model, gathered before the agent runs."""

    conversation: Conversation
    agent_input: list[dict[str, str]]
    user_id: str
    bearer_token: str = field(repr=False)


@dataclass
class TurnResult:
    conversation_id: int
    response: str
    tool_calls: list[dict[str, Any]]
    message_id: int | None = None


async def begin_turn(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    user_id: str,
    bearer_token: str,
    conversation_id: int | None,
    message: str,
) -> TurnContext:
    """Finds (or starts) the conversation, reads its recent history, stores the user's message."""
    async with sessionmaker() as session:
        conversation = await conversations.start_or_continue(
            session, user_id=user_id, conversation_id=conversation_id, first_message=message
        )
        agent_input = [] if conversation_id is None else await _history(session, conversation)
        await conversations.add_message(
            session, conversation=conversation, role=Role.USER, content=message
        )
    agent_input.append({"role": "user", "content": message})
    return TurnContext(conversation, agent_input, user_id, bearer_token)


async def _history(session: AsyncSession, conversation: Conversation) -> list[dict[str, str]]:
    """The conversation's last messages as the agent reads them: who said what. Only those two
    columns are read: the stored tool calls (whole task lists, some of them) are for the UI."""
    statement = (
        select(Message.role, Message.content)
        .where(Message.conversation_id == conversation.id, Message.user_id == conversation.user_id)
        .order_by(col(Message.id).desc())
        .limit(HISTORY_MESSAGES)
    )
    rows = (await session.exec(statement)).all()
    return [{"role": Role(role).value, "content": content} for role, content in reversed(rows)]


async def run_turn(
    turn: TurnContext,
    *,
    app: ASGIApp,
    model: Model,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> TurnResult:
    try:
        mcp = await agent_mcp_server(app)
        with acting_as(turn.user_id, token=turn.bearer_token):
            agent = build_agent(model=model, tools=mcp.agent_tools)
            result = await Runner.run(agent, turn.agent_input, max_turns=MAX_AGENT_TURNS)
    except Exception as exc:
        if is_database_outage(exc):
            raise
        raise _assistant_failed(exc) from exc
    reply = _final_text(result.final_output)
    calls = tool_calls_of(result.new_items)
    return await _finish_turn(sessionmaker, turn, reply, calls)


async def stream_turn(
    turn: TurnContext,
    *,
    app: ASGIApp,
    model: Model,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[dict[str, Any]]:
    """The turn as Vercel AI SDK UI message stream parts (start … finish).

    The agent runs in its own task: if the client goes away mid-answer the turn still completes
    and is stored, exactly as the JSON endpoint would store it.
    """
    parts: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    task = asyncio.create_task(_produce_stream(turn, app, model, sessionmaker, parts.put_nowait))
    _background_turns.add(task)
    task.add_done_callback(_background_turns.discard)
    while (part := await parts.get()) is not None:
        yield part


# Turns still running after their client disconnected (kept referenced until they finish).
_background_turns: set[asyncio.Task[None]] = set()


async def _produce_stream(
    turn: TurnContext,
    app: ASGIApp,
    model: Model,
    sessionmaker: async_sessionmaker[AsyncSession],
    emit: Any,
) -> None:
    conversation_id = turn.conversation.id
    emit(
        {
            "type": "start",
            "messageId": f"msg-{uuid.uuid4().hex}",
            "messageMetadata": {"conversation_id": conversation_id},
        }
    )
    writer = _UIStreamWriter(emit)
    try:
        try:
            mcp = await agent_mcp_server(app)
            with acting_as(turn.user_id, token=turn.bearer_token):
                agent: Agent[Any] = build_agent(model=model, tools=mcp.agent_tools)
                result: RunResultStreaming = Runner.run_streamed(
                    agent, turn.agent_input, max_turns=MAX_AGENT_TURNS
                )
                async for event in result.stream_events():
                    writer.handle(event)
        except Exception as exc:
            if is_database_outage(exc):
                raise
            raise _assistant_failed(exc) from exc
        writer.close_step()
        reply = _final_text(result.final_output)
        if not writer.streamed_text and reply:
            writer.text(reply)  # a model that answered without streaming deltas
            writer.close_step()
        stored = await _finish_turn(sessionmaker, turn, reply, tool_calls_of(result.new_items))
        emit(
            {
                "type": "finish",
                "finishReason": "stop",
                "messageMetadata": {
                    "conversation_id": conversation_id,
                    "message_id": stored.message_id,
                },
            }
        )
    except Exception as exc:
        log.warning("chat stream failed", extra={"error": type(exc).__name__})
        writer.close_step()
        emit({"type": "error", "errorText": _public_error(exc)})
        emit({"type": "finish", "finishReason": "error"})
    finally:
        emit(None)


class _UIStreamWriter:
    """Turns Agents SDK stream events into UI message stream parts."""

    def __init__(self, emit: Any) -> None:
        self._emit = emit
        self._text_id: str | None = None
        self._in_step = False
        self.streamed_text = False

    def handle(self, event: StreamEvent) -> None:
        if isinstance(event, RawResponsesStreamEvent):
            data = event.data
            if isinstance(data, ResponseCreatedEvent):
                self.close_step()
                self._open_step()
            elif isinstance(data, ResponseTextDeltaEvent) and data.delta:
                self._text_delta(data.item_id, data.delta)
        elif isinstance(event, RunItemStreamEvent):
            item = event.item
            if event.name == "tool_called" and isinstance(item, ToolCallItem):
                self._close_text()
                self._open_step()
                call_id, name, arguments = _call_parts(item)
                self._emit(
                    {
                        "type": "tool-input-available",
                        "toolCallId": call_id,
                        "toolName": name,
                        "input": arguments,
                        "dynamic": True,
                    }
                )
            elif event.name == "tool_output" and isinstance(item, ToolCallOutputItem):
                self._open_step()
                self._emit(
                    {
                        "type": "tool-output-available",
                        "toolCallId": _output_call_id(item),
                        "output": tool_result(item.output),
                        "dynamic": True,
                    }
                )
            elif event.name == "message_output_created" and isinstance(item, MessageOutputItem):
                self._close_text()

    def text(self, content: str) -> None:
        self._text_delta(f"text-{uuid.uuid4().hex}", content)
        self._close_text()

    def close_step(self) -> None:
        self._close_text()
        if self._in_step:
            self._emit({"type": "finish-step"})
            self._in_step = False

    def _open_step(self) -> None:
        if not self._in_step:
            self._emit({"type": "start-step"})
            self._in_step = True

    def _text_delta(self, item_id: str, delta: str) -> None:
        self._open_step()
        if self._text_id != item_id:
            self._close_text()
            self._text_id = item_id
            self._emit({"type": "text-start", "id": item_id})
        self._emit({"type": "text-delta", "id": item_id, "delta": delta})
        self.streamed_text = True

    def _close_text(self) -> None:
        if self._text_id is not None:
            self._emit({"type": "text-end", "id": self._text_id})
            self._text_id = None


# Results ---------------------------------------------------------------------------------------


async def _finish_turn(
    sessionmaker: async_sessionmaker[AsyncSession],
    turn: TurnContext,
    reply: str,
    calls: list[dict[str, Any]],
) -> TurnResult:
    conversation = turn.conversation  # read at the start of the turn, not read again
    conversation_id = conversation.id
    async with sessionmaker() as session:
        try:
            message = await conversations.add_message(
                session,
                conversation=conversation,
                role=Role.ASSISTANT,
                content=reply,
                tool_calls=calls or None,
            )
        except StaleDataError:  # the user deleted the conversation while the agent ran
            raise ConversationNotFound(conversation_id) from None
    return TurnResult(conversation_id, reply, calls, message.id)


def tool_calls_of(items: list[RunItem]) -> list[dict[str, Any]]:
    """`[{"name", "arguments", "result"}]` for each tool call of the turn, in order."""
    results = {
        _output_call_id(item): tool_result(item.output)
        for item in items
        if isinstance(item, ToolCallOutputItem)
    }
    calls = []
    for item in items:
        if isinstance(item, ToolCallItem):
            call_id, name, arguments = _call_parts(item)
            calls.append({"name": name, "arguments": arguments, "result": results.get(call_id)})
    return calls


def tool_result(output: Any) -> Any:
    """An MCP tool's output as data: its JSON text parsed, or the plain text (e.g. an error)."""
    if isinstance(output, dict) and output.get("type") == "text":
        output = output.get("text", "")
    elif isinstance(output, list):
        output = "".join(part.get("text", "") for part in output if isinstance(part, dict))
    if isinstance(output, str):
        try:
            return json.loads(output)
        except ValueError:
            return output
    return output


def _call_parts(item: ToolCallItem) -> tuple[str, str, Any]:
    raw = item.raw_item
    get = raw.get if isinstance(raw, dict) else lambda key, default=None: getattr(raw, key, default)
    arguments = get("arguments", "") or "{}"
    try:
        parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
    except ValueError:
        parsed = arguments
    return str(get("call_id", "") or get("id", "")), str(get("name", "")), parsed


def _output_call_id(item: ToolCallOutputItem) -> str:
    raw = item.raw_item
    return str(raw.get("call_id", "") if isinstance(raw, dict) else getattr(raw, "call_id", ""))


def _final_text(output: Any) -> str:
    return "" if output is None else str(output)


def _assistant_failed(exc: Exception) -> AssistantFailed:
    log.warning("assistant failed", extra={"error": type(exc).__name__})
    return AssistantFailed(f"the assistant could not answer ({type(exc).__name__})")


def _public_error(exc: Exception) -> str:
    if isinstance(exc, AssistantFailed):
        return str(exc)
    return DATABASE_UNAVAILABLE if is_database_outage(exc) else "internal server error"
