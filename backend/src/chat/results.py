"""What an agent run produced, as the app stores and shows it: the reply's text, and each tool
call's name, arguments and MCP result as data."""

from __future__ import annotations

import json
from typing import Any

from agents.items import ToolCallItem, ToolCallOutputItem


def final_text(output: Any) -> str:
    return "" if output is None else str(output)


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


def call_parts(item: ToolCallItem) -> tuple[str, str, Any]:
    """A tool call's id, tool name and arguments (parsed from JSON when they are JSON)."""
    raw = item.raw_item
    get = raw.get if isinstance(raw, dict) else lambda key, default=None: getattr(raw, key, default)
    arguments = parsed_arguments(get("arguments", ""))
    return str(get("call_id", "") or get("id", "")), str(get("name", "")), arguments


def parsed_arguments(arguments: Any) -> Any:
    """A tool call's arguments as data; text that is not JSON (a model's mistake) as it is."""
    if not isinstance(arguments, str):
        return arguments
    try:
        return json.loads(arguments or "{}")
    except ValueError:
        return arguments


def output_call_id(item: ToolCallOutputItem) -> str:
    raw = item.raw_item
    return str(raw.get("call_id", "") if isinstance(raw, dict) else getattr(raw, "call_id", ""))
