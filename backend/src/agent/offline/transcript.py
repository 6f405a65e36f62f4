"""Reads what the agent loop hands a model: the user's latest message, the conversation before
it, and the tool calls already made this turn with their results.

The offline assistant keeps no state between calls: everything it needs to decide its next
step is in these input items, exactly as for a real model.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Exchange:
    """One tool call made this turn and what came back (`error` set when the tool failed)."""

    name: str
    arguments: dict[str, Any]
    result: Any = None
    error: str | None = None


@dataclass
class Transcript:
    message: str = ""
    exchanges: list[Exchange] = field(default_factory=list)
    # The turn before this one, for answers to a question ("which one?" → "the second").
    previous_user: str | None = None
    previous_assistant: str | None = None


def read_transcript(items: str | Sequence[Any]) -> Transcript:
    if isinstance(items, str):
        return Transcript(message=items)
    dicts = [_as_dict(item) for item in items]
    user_positions = [i for i, item in enumerate(dicts) if _role(item) == "user"]
    if not user_positions:
        return Transcript()
    last_user = user_positions[-1]
    transcript = Transcript(message=_text(dicts[last_user].get("content")))

    earlier = dicts[:last_user]
    assistant_texts = [
        (i, _text(item.get("content")))
        for i, item in enumerate(earlier)
        if _role(item) == "assistant"
    ]
    if assistant_texts:
        position, text = assistant_texts[-1]
        transcript.previous_assistant = text
        users_before = [i for i in user_positions if i < position]
        if users_before:
            transcript.previous_user = _text(dicts[users_before[-1]].get("content"))

    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    order: list[str] = []
    outputs: dict[str, Any] = {}
    for item in dicts[last_user + 1 :]:
        kind = item.get("type")
        if kind == "function_call":
            call_id = str(item.get("call_id") or item.get("id"))
            calls[call_id] = (str(item.get("name")), _arguments(item.get("arguments")))
            order.append(call_id)
        elif kind == "function_call_output":
            outputs[str(item.get("call_id"))] = item.get("output")
    for call_id in order:
        if call_id not in outputs:
            continue
        name, arguments = calls[call_id]
        result, error = read_tool_output(outputs[call_id])
        transcript.exchanges.append(Exchange(name, arguments, result, error))
    return transcript


def read_tool_output(output: Any) -> tuple[Any, str | None]:
    """A tool's output as data, or the error text when it is not data.

    MCP tools answer with text content holding JSON (some servers wrap a list as {"result": [...]});
    a failed call answers with the error message as plain text.
    """
    texts = _texts(output)
    values: list[Any] = []
    for text in texts:
        value = _decode(text)
        if value is _UNDECODABLE:
            return None, _error_text(" ".join(texts))
        values.append(value)
    if not values:
        return None, "the tool returned nothing"
    value = values[0] if len(values) == 1 else values
    if isinstance(value, Mapping) and set(value) == {"result"}:
        value = value["result"]
    if isinstance(value, Mapping) and "task_id" not in value and "id" not in value:
        for key in ("error", "detail", "message"):
            if isinstance(value.get(key), str):
                return None, _error_text(value[key])
    return value, None


_UNDECODABLE = object()


def _decode(text: str) -> Any:
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    # A plain function tool returning a dict is stringified with repr() by the SDK.
    if text[:1] in "[{":
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            pass
    return _UNDECODABLE


def _error_text(text: str) -> str:
    text = text.strip()
    for prefix in ("An error occurred while running the tool. Please try again. Error:", "Error:"):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
    if text.startswith("Error calling tool") and ":" in text:
        text = text.split(":", 1)[1].strip()
    return text or "the tool failed"


def _texts(output: Any) -> list[str]:
    if isinstance(output, str):
        return [output]
    if isinstance(output, Mapping):
        return [str(output["text"])] if "text" in output else [json.dumps(output)]
    if isinstance(output, Sequence):
        return [text for part in output for text in _texts(_as_dict(part))]
    return [str(output)]


def _as_dict(item: Any) -> Any:
    dump = getattr(item, "model_dump", None)
    return dump(exclude_unset=True) if callable(dump) else item


def _role(item: Any) -> str | None:
    return item.get("role") if isinstance(item, Mapping) else None


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        return str(content.get("text") or content.get("refusal") or "")
    if isinstance(content, Sequence):
        return "".join(_text(_as_dict(part)) for part in content)
    return str(content)


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
