"""Under uvicorn, as deployed: a request that fails unexpectedly is a JSON 500 and the client's
keep-alive connection carries on (a proxy reuses it for the next user's request)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from src.api.deps import get_settings
from src.main import create_app
from tests.conftest import User, make_settings
from tests.support.auth import IdentityProvider
from tests.support.uvicorn_server import read_response, serving


@pytest.fixture
async def served(database_url: str, idp: IdentityProvider) -> AsyncIterator[tuple[FastAPI, int]]:
    app = create_app(make_settings(database_url, idp))
    async with serving(app) as port:
        yield app, port


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, user: User
) -> tuple[int, Any]:
    """One HTTP/1.1 request on an open connection, and its response's status and JSON body."""
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {user.token}\r\n\r\n".encode()
    )
    await writer.drain()
    status, _, body = await read_response(reader)
    return status, body


async def test_a_failed_request_leaves_the_connection_usable(
    served: tuple[FastAPI, int], user: User
) -> None:
    app, port = served

    def broken() -> None:
        raise RuntimeError("a bug")

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        app.dependency_overrides[get_settings] = broken
        assert await exchange(reader, writer, user.url("/assistant"), user) == (
            500,
            {"detail": "internal server error"},
        )
        app.dependency_overrides.clear()
        status, body = await exchange(reader, writer, user.url("/assistant"), user)
        assert status == 200 and body["offline"] is True
    finally:
        writer.close()
