"""JSON log lines carrying the request id; the access log is ours, not uvicorn's.

User content is never logged. An exception's traceback is logged with every exception's class,
but the message only of those that cannot carry data: a database error's message quotes the
statement's values ("Failing row contains (…)", a duplicate key, the bound parameters) and a
validation error's quotes its input, so theirs are left out.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Attributes every LogRecord has; anything else was passed with `extra=` and is logged as a field.
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}

_PROBE_PATHS = frozenset({"/health", "/ready"})
# Modules whose exceptions quote the data they were handed.
_DATA_CARRYING = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "pydantic", "pydantic_core")

logger = logging.getLogger("todo.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)

    def formatException(self, ei: Any) -> str:  # noqa: N802  (logging's name)
        return format_exception_without_data(ei[1]) if ei[1] is not None else ""


_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"


def format_exception_without_data(exc: BaseException) -> str:
    """The traceback of `exc` and the exceptions that led to it, as Python prints it, less the
    messages of exceptions from modules that quote data in theirs."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    parts: list[str] = []
    for error, link_to_next in reversed(chain):
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(error.__traceback__))
        parts.append(_headline(error) + "\n")
        if link_to_next:
            parts.append(f"\n{link_to_next}\n\n")
    return "".join(parts).rstrip("\n")


def _headline(error: BaseException) -> str:
    kind = type(error)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    if kind.__module__.split(".")[0] in _DATA_CARRYING:
        return f"{name} (message withheld: it may quote user data)"
    message = str(error)
    return f"{name}: {message}" if message else name


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn installs its own handlers before importing the app: route them through ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv_logger = logging.getLogger(name)
        uv_logger.handlers[:] = []
        uv_logger.propagate = True
    # RequestContextMiddleware writes the access log (with request ids and durations).
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # Client libraries log request URLs and payload details at INFO/DEBUG.
    for noisy in ("httpx", "httpx2", "httpcore", "mcp", "openai", "openai.agents"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def route_of(scope: Scope) -> str:
    """The matched route's template (`/api/{user_id}/tasks`), which names no user; else the path."""
    return getattr(scope.get("route"), "path", None) or scope["path"]


class RequestContextMiddleware:
    """Gives each request an id (the caller's X-Request-ID when sane), echoes it, logs the access.

    A plain ASGI middleware so streamed responses pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(_REQUEST_ID_HEADER, b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (_REQUEST_ID_HEADER, request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # Probes hit these every few seconds: only their failures are worth a line at INFO.
            quiet = scope["path"] in _PROBE_PATHS and status < 400
            # Query strings may carry search text, so they are left out.
            logger.log(
                logging.DEBUG if quiet else logging.INFO,
                "request",
                extra={
                    "method": scope["method"],
                    "path": route_of(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id_var.reset(token)
