"""A turn as Vercel AI SDK UI message stream parts (start … finish), what `useChat` reads."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from agents.items import MessageOutputItem, ToolCallItem, ToolCallOutputItem
from agents.stream_events import RawResponsesStreamEvent, RunItemStreamEvent, StreamEvent
from openai.types.responses import ResponseCreatedEvent, ResponseTextDeltaEvent

from src.db.errors import is_database_outage

from .errors import public_error
from .failures import turn_deadline
from .record import TurnRecord
from .results import call_parts, final_text, output_call_id, tool_result

if TYPE_CHECKING:
    from .turn import Chat, Turn

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any] | None], None]


async def stream_turn(chat: Chat, turn: Turn) -> AsyncIterator[dict[str, Any]]:
    """The turn's parts as they happen. The agent runs in its own task: if the client goes away
    mid-answer the turn still completes and is stored, exactly as a JSON turn would be."""
    parts: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    task = asyncio.create_task(_produce(chat, turn, parts.put_nowait))
    _background_turns.add(task)
    task.add_done_callback(_background_turns.discard)
    while (part := await parts.get()) is not None:
        yield part


# Turns still running after their client disconnected (kept referenced until they finish).
_background_turns: set[asyncio.Task[None]] = set()


async def _produce(chat: Chat, turn: Turn, emit: Emit) -> None:
    conversation_id = turn.conversation.id
    emit(
        {
            "type": "start",
            "messageId": f"msg-{uuid.uuid4().hex}",
            "messageMetadata": {"conversation_id": conversation_id},
        }
    )
    writer = _UIStreamWriter(emit)
    record = TurnRecord(chat.model)
    try:
        result = chat.run_streamed(
            turn.agent_input, visible_tasks=turn.visible_tasks, record=record
        )
        try:
            async with turn_deadline(chat.deadline()):
                async for event in result.stream_events():
                    writer.handle(event)
        except Exception as exc:
            result.cancel()  # a turn past its deadline calls neither the model nor tools again
            if is_database_outage(exc):
                raise
            raise await chat.fail(turn, record, exc) from exc
        writer.close_step()
        reply = final_text(result.final_output)
        if not writer.streamed_text and reply:
            writer.text(reply)  # a model that answered without streaming deltas
            writer.close_step()
        record.log("answered")
        stored = await chat.finish(turn, reply, record.calls)
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
        emit({"type": "error", "errorText": public_error(exc)})
        emit({"type": "finish", "finishReason": "error"})
    finally:
        emit(None)


class _UIStreamWriter:
    """Turns Agents SDK stream events into UI message stream parts."""

    def __init__(self, emit: Emit) -> None:
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
                call_id, name, arguments = call_parts(item)
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
                        "toolCallId": output_call_id(item),
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
