"""Under uvicorn, over a raw connection: a request body is never read for a caller without a
valid token, and no body over 1 MiB is read in full; the answers come back while the client is
still sending, and nothing is written."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from src.api.gate import BODY_MAX
from src.main import create_app
from tests.conftest import User, make_settings
from tests.support.auth import IdentityProvider
from tests.support.uvicorn_server import read_response, serving

HUGE = 150 * 1024 * 1024
CHUNK = 64 * 1024
TOO_LARGE = {"detail": "the request body is larger than the limit of 1 MiB (1,048,576 bytes)"}
# An answer that does not come while the body is still owed means the server is reading it;
# a bound, so such a server fails the test instead of hanging it.
NO_ANSWER = 30


@pytest.fixture
async def port(database_url: str, idp: IdentityProvider) -> AsyncIterator[int]:
    async with serving(create_app(make_settings(database_url, idp))) as port:
        yield port


async def start_request(
    port: int, path: str, *, token: str | None, length: int | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Sends a POST's headers (Content-Length `length`, or chunked when None) and 64 KiB of a
    body that is far from complete, and leaves the connection open."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: test\r\n{auth}Content-Type: application/json\r\n"
        f"{framing}\r\n\r\n".encode()
    )
    body = b'{"title": "' + b"x" * (CHUNK - 11)
    writer.write(body if length is not None else b"%x\r\n%s\r\n" % (len(body), body))
    await writer.drain()
    return reader, writer


async def answer_while_body_is_owed(
    port: int, path: str, *, token: str | None, length: int | None
) -> tuple[int, dict[str, str], object]:
    reader, writer = await start_request(port, path, token=token, length=length)
    try:
        return await asyncio.wait_for(read_response(reader), NO_ANSWER)
    finally:
        writer.close()


@pytest.mark.parametrize("length", [HUGE, None], ids=["content-length", "chunked"])
@pytest.mark.parametrize(
    ("token", "reason"),
    [(None, "missing bearer token"), ("not-a-jwt", "malformed token")],
    ids=["no-token", "bad-token"],
)
async def test_a_caller_without_a_valid_token_is_refused_before_the_body(
    port: int, user: User, length: int | None, token: str | None, reason: str
) -> None:
    status, headers, body = await answer_while_body_is_owed(
        port, user.url("/tasks"), token=token, length=length
    )
    assert (status, body) == (401, {"detail": reason})
    assert headers["www-authenticate"].startswith("Bearer")


async def test_a_body_announced_over_the_limit_is_refused_unread(port: int, user: User) -> None:
    for path in (user.url("/tasks"), user.url("/chat"), user.url("/chatkit")):
        status, _, body = await answer_while_body_is_owed(
            port, path, token=user.token, length=HUGE
        )
        assert (status, body) == (413, TOO_LARGE), path
    # The MCP endpoint checks its own tokens; its bodies have the same limit.
    status, _, body = await answer_while_body_is_owed(port, "/mcp/", token=user.token, length=HUGE)
    assert (status, body) == (413, TOO_LARGE)


async def test_a_chunked_body_past_the_limit_is_refused_and_nothing_is_written(
    port: int, user: User
) -> None:
    reader, writer = await start_request(port, user.url("/tasks"), token=user.token, length=None)
    try:
        # Past the limit by one chunk, and the body not ended (no last chunk): the server must
        # answer now, not wait for the rest.
        for _ in range(BODY_MAX // CHUNK):
            writer.write(b"%x\r\n%s\r\n" % (CHUNK, b"y" * CHUNK))
        await writer.drain()
        status, _, body = await asyncio.wait_for(read_response(reader), NO_ANSWER)
    finally:
        writer.close()
    assert (status, body) == (413, TOO_LARGE)

    listed = await list_tasks(port, user)
    assert listed["total"] == 0


async def test_a_body_of_exactly_the_limit_is_served(port: int, user: User) -> None:
    task = json.dumps({"title": "padded", "description": "fits"}).encode()
    body = task[:-1] + b" " * (BODY_MAX - len(task)) + b"}"
    assert len(body) == BODY_MAX
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for payload, expected in ((body, 201), (body[:-1] + b" }", 413)):
            writer.write(
                f"POST {user.url('/tasks')} HTTP/1.1\r\nHost: test\r\n"
                f"Authorization: Bearer {user.token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
            status, _, answer = await asyncio.wait_for(read_response(reader), NO_ANSWER)
            assert status == expected, answer
    finally:
        writer.close()
    assert [t["title"] for t in (await list_tasks(port, user))["items"]] == ["padded"]


async def list_tasks(port: int, user: User) -> dict[str, object]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"GET {user.url('/tasks')} HTTP/1.1\r\nHost: test\r\n"
            f"Authorization: Bearer {user.token}\r\n\r\n".encode()
        )
        await writer.drain()
        status, _, body = await read_response(reader)
    finally:
        writer.close()
    assert status == 200
    return body  # type: ignore[return-value]
