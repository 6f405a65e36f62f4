"""Reads a Vercel AI SDK UI message stream the way `useChat` does: SSE `data:` events, each a
JSON part, assembled into one assistant message (text parts and tool parts)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

# The part types the AI SDK's uiMessageChunkSchema accepts (ai@6, ui-message-chunks.ts).
KNOWN_PART_TYPES = {
    "start", "finish", "abort", "error", "start-step", "finish-step", "message-metadata",
    "text-start", "text-delta", "text-end", "reasoning-start", "reasoning-delta", "reasoning-end",
    "tool-input-start", "tool-input-delta", "tool-input-available", "tool-input-error",
    "tool-output-available", "tool-output-error", "tool-output-denied", "source-url",
    "source-document", "file",
}  # fmt: skip


@dataclass
class UIMessage:
    metadata: dict[str, Any] = field(default_factory=dict)
    parts: list[dict[str, Any]] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    finished: bool = False
    done: bool = False

    @property
    def text(self) -> str:
        return "".join(p["text"] for p in self.parts if p["type"] == "text")

    @property
    def tools(self) -> list[dict[str, Any]]:
        return [p for p in self.parts if p["type"] == "dynamic-tool"]


async def read_ui_stream(response: httpx.Response) -> UIMessage:
    message = UIMessage()
    texts: dict[str, dict[str, Any]] = {}
    tools: dict[str, dict[str, Any]] = {}
    data_lines: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data_lines.append(line[5:].lstrip())
            continue
        if line or not data_lines:
            continue
        data, data_lines = "\n".join(data_lines), []
        assert not message.done, "data after [DONE]"
        if data == "[DONE]":
            message.done = True
            continue
        part = json.loads(data)
        message.raw.append(part)
        kind = part["type"]
        assert kind in KNOWN_PART_TYPES, f"unknown part {kind!r}"
        if kind in ("start", "finish", "message-metadata") and part.get("messageMetadata"):
            message.metadata.update(part["messageMetadata"])
        if kind == "text-start":
            texts[part["id"]] = {"type": "text", "text": "", "state": "streaming"}
            message.parts.append(texts[part["id"]])
        elif kind == "text-delta":
            texts[part["id"]]["text"] += part["delta"]
        elif kind == "text-end":
            texts[part["id"]]["state"] = "done"
        elif kind == "tool-input-available":
            tools[part["toolCallId"]] = {
                "type": "dynamic-tool" if part.get("dynamic") else f"tool-{part['toolName']}",
                "toolName": part["toolName"],
                "toolCallId": part["toolCallId"],
                "state": "input-available",
                "input": part["input"],
            }
            message.parts.append(tools[part["toolCallId"]])
        elif kind == "tool-output-available":
            tool = tools[part["toolCallId"]]  # an output always follows its input
            tool.update(state="output-available", output=part["output"])
        elif kind == "error":
            message.errors.append(part["errorText"])
        elif kind == "finish":
            message.finished = True
    return message
