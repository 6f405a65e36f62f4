"""The app's MCP tools as the chat agent reaches them (in-process), acting as a token's holder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.types import ASGIApp

from src.mcp.client import InProcessMCPServer
from src.mcp.server import acting_as


@asynccontextmanager
async def in_process_mcp_server(
    app: ASGIApp, *, bearer_token: str
) -> AsyncIterator[InProcessMCPServer]:
    """The token is verified as any request's is; the chat service binds its verified user
    itself (`acting_as`)."""
    user = await app.state.verifier.verify(bearer_token)  # type: ignore[attr-defined]
    server = await app.state.mcp.agent_server()  # type: ignore[attr-defined]
    with acting_as(user.id, token=bearer_token):
        yield server
