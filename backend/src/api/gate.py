"""The front door every request passes before a route reads a byte of its body: `/api` requests
must carry a valid token (401 otherwise), and no body may exceed BODY_MAX bytes (413).

FastAPI reads and parses a body before it solves the route's dependencies, authentication
included: without this, anyone could make a replica read and parse a body of any size. A body
whose Content-Length is too large is refused before it is read; one sent without a length
(chunked) is refused as soon as the bytes read pass the limit, before the route runs.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.api.errors import TrackedSend, keys_unavailable_response
from src.auth.deps import authenticate, bearer_token
from src.auth.jwks import JWKSVerifier, SigningKeysUnavailable

BODY_MAX = 1024 * 1024
AUTHENTICATED_PREFIX = "/api/"


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"the request body is larger than the limit of {_size(limit)} ({limit:,} bytes)",
        )


def _size(limit: int) -> str:
    return f"{limit // 1024 // 1024} MiB" if limit % (1024 * 1024) == 0 else f"{limit:,} bytes"


class RequestGate:
    def __init__(self, app: ASGIApp, *, verifier: JWKSVerifier, body_max: int = BODY_MAX) -> None:
        self.app = app
        self.verifier = verifier
        self.body_max = body_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["path"].startswith(AUTHENTICATED_PREFIX):
            try:
                await authenticate(self.verifier, bearer_token(headers.get("authorization")))
            except HTTPException as refused:
                response = JSONResponse(
                    {"detail": refused.detail}, refused.status_code, headers=refused.headers
                )
                await response(scope, receive, send)
                return
            except SigningKeysUnavailable as exc:
                await keys_unavailable_response(exc)(scope, receive, send)
                return
        too_large = BodyTooLarge(self.body_max)
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.body_max:
            await _answer(too_large)(scope, receive, send)
            return

        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.body_max:
                    raise too_large  # FastAPI answers it as it reads the body; else we do
            return message

        send_tracked = TrackedSend(send)
        try:
            await self.app(scope, receive_within_limit, send_tracked)
        except BodyTooLarge as exc:
            if send_tracked.started:
                raise
            await _answer(exc)(scope, receive, send)


def _answer(exc: HTTPException) -> JSONResponse:
    return JSONResponse({"detail": exc.detail}, exc.status_code)
