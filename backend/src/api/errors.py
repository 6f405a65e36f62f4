"""Every error leaves as JSON `{"detail": ...}` with a status that says whose problem it is."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.auth.jwks import SigningKeysUnavailable
from src.core.logging import route_of
from src.db.errors import DATABASE_UNAVAILABLE, describe_failure, is_database_outage
from src.services.conversations import ConversationNotFound
from src.services.tasks import TaskNotFound

log = logging.getLogger(__name__)


def validation_errors(exc: RequestValidationError) -> list[dict[str, object]]:
    """FastAPI's field errors without echoing the submitted input back."""
    return [_field_error(error) for error in exc.errors()]


def _field_error(error: dict[str, Any]) -> dict[str, object]:
    loc = list(error["loc"])
    if error["type"] == "json_invalid":
        # FastAPI puts the character offset where a field name would be: say it in words.
        reason = error.get("ctx", {}).get("error", "JSON decode error")
        return {
            "loc": loc[:1],
            "field": "body",
            "msg": f"the body is not valid JSON: {reason} (at character {loc[-1]})",
            "type": "json_invalid",
        }
    return {
        "loc": loc,
        "field": ".".join(str(part) for part in loc[1:]) or str(loc[0]),
        "msg": error["msg"].removeprefix("Value error, "),
        "type": error["type"],
    }


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": validation_errors(exc)},
        )

    @app.exception_handler(TaskNotFound)
    @app.exception_handler(ConversationNotFound)
    async def _not_found(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": str(exc)})

    @app.exception_handler(status.HTTP_405_METHOD_NOT_ALLOWED)
    async def _method_not_allowed(request: Request, exc: HTTPException) -> JSONResponse:
        # Starlette's Allow names the methods of the first route matching the path, but a path
        # is served by one route per method: name every method the schema gives the path.
        allowed = _methods_served(request.app, request.scope["path"])
        headers = {"Allow": ", ".join(allowed)} if allowed else exc.headers
        return JSONResponse(
            status_code=status.HTTP_405_METHOD_NOT_ALLOWED,
            content={"detail": "Method Not Allowed"},
            headers=headers,
        )

    @app.exception_handler(SigningKeysUnavailable)
    async def _no_keys(_: Request, exc: SigningKeysUnavailable) -> JSONResponse:
        return keys_unavailable_response(exc)

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        return error_response(exc, scope=request.scope)

    for error_type in (sa_exc.SQLAlchemyError, OSError):
        app.add_exception_handler(error_type, _database)


def _methods_served(app: FastAPI, path: str) -> list[str]:
    """The methods the OpenAPI schema lists for the path template `path` matches."""
    table = getattr(app.state, "methods_by_path", None)
    if table is None:
        table = app.state.methods_by_path = [
            (compile_path(template)[0], sorted(method.upper() for method in operations))
            for template, operations in app.openapi()["paths"].items()
        ]
    return next((methods for pattern, methods in table if pattern.match(path)), [])


def keys_unavailable_response(exc: SigningKeysUnavailable) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": f"cannot verify tokens right now: {exc}"},
        headers={"Retry-After": "5"},
    )


def error_response(exc: Exception, *, scope: Scope) -> JSONResponse:
    """503 for a database outage, else a 500 that says nothing of the failure; logged without
    user data (src/core/logging.py)."""
    if is_database_outage(exc):
        log.warning("database unavailable", extra=describe_failure(exc))
        return JSONResponse(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            content={"detail": DATABASE_UNAVAILABLE},
            headers={"Retry-After": "2"},
        )
    log.error(
        "unhandled error", exc_info=exc, extra={"path": route_of(scope), **describe_failure(exc)}
    )
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content={"detail": "internal server error"},
    )


class TrackedSend:
    """An ASGI `send` that remembers whether the response has started: once it has, an error
    can no longer be answered with a response of its own."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


class ErrorsEndHere:
    """Any exception a route lets through is answered here (see `error_response`) and goes no
    further. Starlette's handler for `Exception` answers too but then re-raises it to the
    server, and uvicorn drops the client's keep-alive connection: the next request on it (a
    proxy's, typically) fails."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send_tracked = TrackedSend(send)
        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            response = error_response(exc, scope=scope)
            if not send_tracked.started:  # else the response is under way and ends where it is
                await response(scope, receive, send)
