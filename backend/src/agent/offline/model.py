"""`OfflineAssistantModel`: an Agents SDK `Model` that needs no API key.

It runs inside the real agent loop: the Runner calls it, it answers with the same output items
a real model would (function calls to the MCP tools, then an assistant message), the Runner
executes the tools and calls it again with their results. Item and stream-event shapes follow
`agents.testing.ScriptedModel`, so anything consuming a real model's stream consumes this one.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from agents import Model, ModelResponse, ModelSettings, ModelTracing, Tool, Usage
from agents.items import TResponseInputItem, TResponseOutputItem, TResponseStreamEvent
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionToolCall,
    ResponseInProgressEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
)
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from src.agent.visible import visible_tasks
from src.core.timezones import current_zone

from ..choice import OFFLINE_MODEL_NAME as MODEL_NAME
from .dates import Clock, utc_now
from .planner import Step, next_step
from .replies import in_utc
from .transcript import read_transcript

TOOLS_UNAVAILABLE = (
    "My task tools aren't available right now, so I can't do that. Please try again."
)


class OfflineAssistantModel(Model):
    """Turns common English to-do requests into tool calls, and tool results into replies.

    `clock` gives "now" for dates like "tomorrow" (inject a fixed one in tests); dates are
    read and said in the user's zone, bound around the turn (UTC, and said so, without one);
    "the first task" counts over the list the user sees, bound likewise (src/agent/visible.py).
    """

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self._clock = clock

    def respond(
        self, input: str | list[TResponseInputItem], tools: list[Tool]
    ) -> list[TResponseOutputItem]:
        """The output items for one model call: tool calls, or one assistant message."""
        zone = current_zone()
        now = self._clock().astimezone(zone.tz)
        step = next_step(read_transcript(input), now, visible_tasks())
        available = {getattr(tool, "name", None) for tool in tools}
        if step.calls and not all(call.name in available for call in step.calls):
            step = Step(reply=TOOLS_UNAVAILABLE)
        if step.calls:
            return [_function_call(call.name, call.arguments) for call in step.calls]
        reply = step.reply or ""
        if step.dated and not zone.known:
            reply = in_utc(reply)
        return [_assistant_message(reply)]

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: Any,
        handoffs: list[Any],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: Any = None,
    ) -> ModelResponse:
        output = self.respond(input, tools)
        return ModelResponse(output=output, usage=Usage(requests=1), response_id=_new_id("resp"))

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: Any,
        handoffs: list[Any],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: Any = None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        output = self.respond(input, tools)
        for event in stream_events(output, response_id=_new_id("resp")):
            yield event


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _function_call(name: str, arguments: dict[str, Any]) -> ResponseFunctionToolCall:
    # Call ids must be unique for the whole run (the SDK matches outputs to calls by them).
    call_id = _new_id("call")
    return ResponseFunctionToolCall(
        id=_new_id("fc"),
        call_id=call_id,
        type="function_call",
        name=name,
        arguments=json.dumps(arguments, ensure_ascii=False, separators=(",", ":")),
        status="completed",
    )


def _assistant_message(text: str) -> ResponseOutputMessage:
    return ResponseOutputMessage(
        id=_new_id("msg"),
        type="message",
        role="assistant",
        status="completed",
        content=[ResponseOutputText(type="output_text", text=text, annotations=[], logprobs=[])],
    )


def _response(output: list[TResponseOutputItem], response_id: str, *, done: bool) -> Response:
    return Response(
        id=response_id,
        created_at=time.time(),
        model=MODEL_NAME,
        object="response",
        output=output if done else [],
        tool_choice="auto",
        tools=[],
        top_p=None,
        parallel_tool_calls=True,
        status="completed" if done else "in_progress",
        usage=(
            ResponseUsage(
                input_tokens=0,
                output_tokens=0,
                total_tokens=0,
                input_tokens_details=InputTokensDetails.model_validate(
                    {"cache_write_tokens": 0, "cached_tokens": 0}
                ),
                output_tokens_details=OutputTokensDetails(reasoning_tokens=0),
            )
            if done
            else None
        ),
    )


def text_chunks(text: str) -> list[str]:
    """Word-sized deltas, so a streaming UI shows the reply arriving like a model's."""
    return re.findall(r"\s*\S+", text) + (
        [trailing] if (trailing := text[len(text.rstrip()) :]) else []
    )


def stream_events(
    output: list[TResponseOutputItem], *, response_id: str
) -> Iterator[TResponseStreamEvent]:
    """The Responses API event sequence for `output`, as `ScriptedModel` emits it."""
    sequence = iter(range(1_000_000))
    yield ResponseCreatedEvent(
        type="response.created",
        response=_response(output, response_id, done=False),
        sequence_number=next(sequence),
    )
    yield ResponseInProgressEvent(
        type="response.in_progress",
        response=_response(output, response_id, done=False),
        sequence_number=next(sequence),
    )
    for index, item in enumerate(output):
        if isinstance(item, ResponseFunctionToolCall):
            yield ResponseOutputItemAddedEvent(
                type="response.output_item.added",
                item=item.model_copy(update={"arguments": "", "status": "in_progress"}),
                output_index=index,
                sequence_number=next(sequence),
            )
            yield ResponseFunctionCallArgumentsDeltaEvent(
                type="response.function_call_arguments.delta",
                item_id=item.id or item.call_id,
                output_index=index,
                delta=item.arguments,
                sequence_number=next(sequence),
            )
            yield ResponseFunctionCallArgumentsDoneEvent.model_validate(
                {
                    "type": "response.function_call_arguments.done",
                    "item_id": item.id or item.call_id,
                    "output_index": index,
                    "arguments": item.arguments,
                    "name": item.name,
                    "sequence_number": next(sequence),
                }
            )
        elif isinstance(item, ResponseOutputMessage):
            yield ResponseOutputItemAddedEvent(
                type="response.output_item.added",
                item=item.model_copy(update={"content": [], "status": "in_progress"}),
                output_index=index,
                sequence_number=next(sequence),
            )
            for content_index, part in enumerate(item.content):
                assert isinstance(part, ResponseOutputText)
                yield ResponseContentPartAddedEvent(
                    type="response.content_part.added",
                    item_id=item.id,
                    output_index=index,
                    content_index=content_index,
                    part=part.model_copy(update={"text": ""}),
                    sequence_number=next(sequence),
                )
                for chunk in text_chunks(part.text):
                    yield ResponseTextDeltaEvent(
                        type="response.output_text.delta",
                        item_id=item.id,
                        output_index=index,
                        content_index=content_index,
                        delta=chunk,
                        logprobs=[],
                        sequence_number=next(sequence),
                    )
                yield ResponseTextDoneEvent(
                    type="response.output_text.done",
                    item_id=item.id,
                    output_index=index,
                    content_index=content_index,
                    text=part.text,
                    logprobs=[],
                    sequence_number=next(sequence),
                )
                yield ResponseContentPartDoneEvent(
                    type="response.content_part.done",
                    item_id=item.id,
                    output_index=index,
                    content_index=content_index,
                    part=part,
                    sequence_number=next(sequence),
                )
        yield ResponseOutputItemDoneEvent(
            type="response.output_item.done",
            item=item,
            output_index=index,
            sequence_number=next(sequence),
        )
    yield ResponseCompletedEvent(
        type="response.completed",
        response=_response(output, response_id, done=True),
        sequence_number=next(sequence),
    )
