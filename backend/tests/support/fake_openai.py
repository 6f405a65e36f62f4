"""A local OpenAI-compatible HTTP server with scripted replies: Chat Completions and Responses,
streamed (SSE) and whole, tool calls, usage, HTTP errors and a stream that stops mid-answer.

The app under test reaches it exactly as it reaches OpenAI, Ollama or LiteLLM: through the
OpenAI client over a real socket. Each model request takes the next scripted reply.

    python -m tests.support.fake_openai --port 8123 --script '[{"tool": "add_task", ...}]'

serves a script given as JSON (see `Reply.from_json`), for tests in other processes (e2e).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_PATHS = {"/v1/chat/completions": "chat_completions", "/v1/responses": "responses"}


@dataclass
class ToolCall:
    name: str
    # A dict is sent as JSON; a string is sent as it is (malformed arguments, for example).
    arguments: dict[str, Any] | str
    call_id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:12]}")

    @property
    def arguments_text(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments)


@dataclass
class Reply:
    """One model response: text and/or tool calls, or an HTTP error. `stall_after` stops a
    streamed reply after that many events (a whole reply: before anything) and keeps the
    connection open, sending nothing."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    status: int = 200
    error_message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    stall_after: int | None = None
    input_tokens: int = 11
    output_tokens: int = 7

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> Reply:
        """`{"text": …}`, `{"tool": name, "arguments": {…}}` or `{"status": 429, "error": …}`."""
        if "tool" in item:
            return tool_call(item["tool"], item.get("arguments", {}))
        if "status" in item:
            return error(item["status"], item.get("error", "scripted error"))
        return text(item["text"])


def text(content: str, *, stall_after: int | None = None) -> Reply:
    return Reply(text=content, stall_after=stall_after)


def tool_call(name: str, arguments: dict[str, Any] | str, *, call_id: str | None = None) -> Reply:
    call = ToolCall(name, arguments) if call_id is None else ToolCall(name, arguments, call_id)
    return Reply(tool_calls=[call])


def error(status: int, message: str, *, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, error_message=message, headers=headers or {})


@dataclass
class ModelRequest:
    """A request the server received: which API, its JSON body and its headers."""

    api: str
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))


class FakeOpenAI:
    def __init__(self, port: int = 0) -> None:
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        # Set on stop, so a stalled reply's handler thread ends.
        self._stopping = threading.Event()
        self.requests: list[ModelRequest] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                if self.path != "/v1/models":
                    self._send_json(404, {"error": {"message": "not found"}})
                    return
                self._send_json(
                    200, {"object": "list", "data": [{"id": "fake", "object": "model"}]}
                )

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                api = MODEL_PATHS.get(self.path)
                if api is None:
                    self._send_json(404, {"error": {"message": f"no such path {self.path}"}})
                    return
                request = ModelRequest(api, body, {k.lower(): v for k, v in self.headers.items()})
                reply = fake._next(request)
                if reply.status != 200:
                    payload = {"error": {"message": reply.error_message, "type": "api_error"}}
                    self._send_json(reply.status, payload, reply.headers)
                    return
                model = str(body.get("model", "fake"))
                if not request.stream and reply.stall_after is not None:
                    fake._stopping.wait()  # a whole reply that never comes
                    return
                if not request.stream:
                    build = _chat_completion if api == "chat_completions" else _response
                    self._send_json(200, build(reply, model))
                    return
                events = (
                    _chat_completion_chunks(reply, model, body)
                    if api == "chat_completions"
                    else _response_events(reply, model)
                )
                self._send_stream(events, reply.stall_after)

            def _send_json(
                self, status: int, payload: Any, headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _send_stream(self, events: list[str], stall_after: int | None) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")  # the end of the body is the close
                self.end_headers()
                self.close_connection = True
                for sent, event in enumerate(events):
                    if stall_after is not None and sent == stall_after:
                        self.wfile.flush()
                        fake._stopping.wait()  # silent, connection open, until the server stops
                        return
                    self.wfile.write(event.encode())
                    self.wfile.flush()
                    time.sleep(0.01)  # deltas arrive as separate reads, as over a network

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def script(self, *replies: Reply) -> None:
        """Replaces what the next model requests are answered with, in order."""
        with self._lock:
            self._script = deque(replies)
            self.requests.clear()

    @property
    def unused(self) -> int:
        """Scripted replies no request took yet."""
        with self._lock:
            return len(self._script)

    def _next(self, request: ModelRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._script:
                return self._script.popleft()
        return error(500, "the fake model server has no scripted reply left")

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()


# Chat Completions -------------------------------------------------------------------------------


def _usage_chat(reply: Reply) -> dict[str, int]:
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
    }


def _chat_completion(reply: Reply, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_text},
            }
            for call in reply.tool_calls
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": _usage_chat(reply),
    }


def _chat_completion_chunks(reply: Reply, model: str, body: dict[str, Any]) -> list[str]:
    chunk_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": piece}) for piece in _pieces(reply.text)]
    for index, call in enumerate(reply.tool_calls):
        head = {"id": call.call_id, "type": "function", "function": {"name": call.name}}
        chunks.append(chunk({"tool_calls": [{"index": index, **head}]}))
        for piece in _halves(call.arguments_text):
            chunks.append(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            )
    chunks.append(chunk({}, "tool_calls" if reply.tool_calls else "stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        chunks.append({**chunk({}), "choices": [], "usage": _usage_chat(reply)})
    return [f"data: {json.dumps(c)}\n\n" for c in chunks] + ["data: [DONE]\n\n"]


# Responses --------------------------------------------------------------------------------------


def _response_items(reply: Reply) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if reply.text:
        items.append(
            {
                "type": "message",
                "id": f"msg_{uuid.uuid4().hex[:12]}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
            }
        )
    for call in reply.tool_calls:
        items.append(
            {
                "type": "function_call",
                "id": f"fc_{uuid.uuid4().hex[:12]}",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments_text,
                "status": "completed",
            }
        )
    return items


def _response(
    reply: Reply, model: str, *, output: list[dict[str, Any]] | None = None, done: bool = True
) -> dict[str, Any]:
    return {
        "id": f"resp_{uuid.uuid4().hex[:12]}",
        "object": "response",
        "created_at": int(time.time()),
        "model": model,
        "status": "completed" if done else "in_progress",
        "output": _response_items(reply) if output is None else output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        }
        if done
        else None,
    }


def _response_events(reply: Reply, model: str) -> list[str]:
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": _response(reply, model, output=[], done=False)}
    ]
    items = _response_items(reply)
    for index, item in enumerate(items):
        if item["type"] == "message":
            content = item["content"][0]
            events.append(
                {
                    "type": "response.output_item.added",
                    "output_index": index,
                    "item": {**item, "status": "in_progress", "content": []},
                }
            )
            part = {"type": "output_text", "text": "", "annotations": []}
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            events.append({"type": "response.content_part.added", **where, "part": part})
            for piece in _pieces(content["text"]):
                events.append(
                    {"type": "response.output_text.delta", **where, "delta": piece, "logprobs": []}
                )
            events.append(
                {
                    "type": "response.output_text.done",
                    **where,
                    "text": content["text"],
                    "logprobs": [],
                }
            )
            events.append({"type": "response.content_part.done", **where, "part": content})
        else:
            events.append(
                {
                    "type": "response.output_item.added",
                    "output_index": index,
                    "item": {**item, "status": "in_progress", "arguments": ""},
                }
            )
            for piece in _halves(item["arguments"]):
                events.append(
                    {
                        "type": "response.function_call_arguments.delta",
                        "item_id": item["id"],
                        "output_index": index,
                        "delta": piece,
                    }
                )
            events.append(
                {
                    "type": "response.function_call_arguments.done",
                    "item_id": item["id"],
                    "output_index": index,
                    "name": item["name"],
                    "arguments": item["arguments"],
                }
            )
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    events.append({"type": "response.completed", "response": _response(reply, model)})
    return [
        f"event: {event['type']}\ndata: {json.dumps({**event, 'sequence_number': n})}\n\n"
        for n, event in enumerate(events)
    ]


def _pieces(content: str) -> list[str]:
    """The text in word-sized deltas, as models stream it."""
    words = content.split(" ")
    return [word if i == len(words) - 1 else f"{word} " for i, word in enumerate(words) if content]


def _halves(arguments: str) -> list[str]:
    middle = len(arguments) // 2
    return [piece for piece in (arguments[:middle], arguments[middle:]) if piece]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--script", required=True, help="a JSON list of replies")
    args = parser.parse_args()
    fake = FakeOpenAI(args.port)
    fake.script(*(Reply.from_json(item) for item in json.loads(args.script)))
    print(f"fake OpenAI server at {fake.url}", flush=True)
    fake._server.serve_forever()


if __name__ == "__main__":
    main()
