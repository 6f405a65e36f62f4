"""What a turn did, recorded as it happens so a turn that fails half-way is known too: each tool
call (name, arguments, result) and the model's token usage, logged once per turn."""

from __future__ import annotations

import logging
from typing import Any

from agents import Agent, Model, RunContextWrapper, RunHooks, Tool
from agents.items import ModelResponse

from .failures import ModelFailure, describe_failure
from .results import parsed_arguments, tool_result

log = logging.getLogger(__name__)


class TurnRecord(RunHooks[Any]):
    def __init__(self, model: Model) -> None:
        self.calls: list[dict[str, Any]] = []
        self._by_call_id: dict[str, dict[str, Any]] = {}
        self._model = str(getattr(model, "model", type(model).__name__))
        self._requests = self._input_tokens = self._output_tokens = 0

    async def on_llm_end(
        self, context: RunContextWrapper[Any], agent: Agent[Any], response: ModelResponse
    ) -> None:
        self._requests += max(1, response.usage.requests)
        self._input_tokens += response.usage.input_tokens
        self._output_tokens += response.usage.output_tokens

    async def on_tool_start(
        self, context: RunContextWrapper[Any], agent: Agent[Any], tool: Tool
    ) -> None:
        # For function tools (the MCP tools are) the context is a ToolContext naming the call.
        call = {
            "name": str(getattr(context, "tool_name", tool.name)),
            "arguments": parsed_arguments(getattr(context, "tool_arguments", "")),
            "result": None,
        }
        self.calls.append(call)
        self._by_call_id[str(getattr(context, "tool_call_id", ""))] = call

    async def on_tool_end(
        self, context: RunContextWrapper[Any], agent: Agent[Any], tool: Tool, result: object
    ) -> None:
        call = self._by_call_id.get(str(getattr(context, "tool_call_id", "")))
        if call is not None:
            call["result"] = tool_result(result)

    def log(self, outcome: str) -> None:
        log.info(
            "chat turn",
            extra={
                "outcome": outcome,
                "model": self._model,
                "model_requests": self._requests,
                "input_tokens": self._input_tokens,
                "output_tokens": self._output_tokens,
                "tool_calls": len(self.calls),
            },
        )

    def failed(self, exc: Exception) -> ModelFailure:
        """What the user is told about the failure that ended the turn; logged with the turn."""
        log.warning("assistant failed", extra={"error": type(exc).__name__})
        self.log(type(exc).__name__)
        return describe_failure(exc)
