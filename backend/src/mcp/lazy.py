"""The app's MCP server, built on first use: the ASGI app mounted at MCP_PATH, and the chat
agent's in-process connection to the same server.

The MCP SDK costs about a second of CPU to import (its protocol types, for two protocol
versions): a pod that built the server at start-up would pay it before answering its first
readiness probe, though most processes serve the UI's REST and chat calls long before (if ever)
an external MCP client calls. So nothing here imports it: the server is built by the first
/mcp request or the first chat, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.types import ASGIApp, Receive, Scope, Send

from src.auth.jwks import JWKSVerifier

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from src.mcp.client import InProcessMCPServer


class LazyMCP:
    """Mounted at MCP_PATH: the first request builds the streamable HTTP app and starts its
    session manager, in a task of its own (its task group must start and end in one task, and
    a request's task ends with the request); `aclose` (the app's lifespan) stops it, and the
    agent's connection if a chat opened one."""

    def __init__(
        self,
        *,
        verifier: JWKSVerifier,
        sessionmaker: async_sessionmaker[AsyncSession],
        issuer: str,
    ) -> None:
        self._verifier = verifier
        self._sessionmaker = sessionmaker
        self._issuer = issuer
        self._server: MCPServer | None = None
        self._http_app: ASGIApp | None = None
        self._starting = asyncio.Lock()
        self._session_manager: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._closing = asyncio.Event()
        self._agent_server: InProcessMCPServer | None = None
        self._connecting = asyncio.Lock()

    def server(self) -> MCPServer:
        """The MCP server (one per app), built on the first call."""
        if self._server is None:
            from src.mcp.server import build_mcp_server

            self._server = build_mcp_server(
                verifier=self._verifier, sessionmaker=self._sessionmaker, issuer=self._issuer
            )
        return self._server

    async def agent_server(self) -> InProcessMCPServer:
        """The chat agent's in-process connection to the server (one per app, shared by every
        conversation), opened on the first chat."""
        if self._agent_server is None:
            async with self._connecting:  # concurrent first chats connect once
                if self._agent_server is None:
                    from src.mcp.client import connect_agent_server

                    self._agent_server = await connect_agent_server(self.server())
        return self._agent_server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        http_app = self._http_app or await self._start()
        await http_app(scope, receive, send)

    async def _start(self) -> ASGIApp:
        async with self._starting:  # concurrent first requests start it once
            if self._session_manager is None:
                self._ready = asyncio.get_running_loop().create_future()
                self._closing = asyncio.Event()
                # A context of its own: not the first request's (its request id, its logging).
                self._session_manager = asyncio.create_task(
                    self._serve(self._ready, self._closing),
                    name="MCP streamable HTTP session manager",
                    context=contextvars.Context(),
                )
            ready = self._ready
        assert ready is not None
        # A request cancelled while waiting leaves the start-up to finish for the next one.
        await asyncio.shield(ready)
        assert self._http_app is not None
        return self._http_app

    async def _serve(self, ready: asyncio.Future[None], closing: asyncio.Event) -> None:
        try:
            from src.mcp.server import mcp_http_app

            http_app = mcp_http_app(self.server())
            async with http_app.router.lifespan_context(http_app):
                self._http_app = http_app
                ready.set_result(None)
                await closing.wait()
        except Exception as exc:
            if ready.done():
                raise
            # Failed to start: this request gets the error, the next one tries again.
            self._session_manager = None
            ready.set_exception(exc)
        finally:
            self._http_app = None
            if not ready.done():  # cancelled while starting
                ready.cancel()

    async def aclose(self) -> None:
        """Closes the agent's connection and stops the session manager, whichever were started
        (at app shutdown)."""
        agent_server, self._agent_server = self._agent_server, None
        if agent_server is not None:
            await agent_server.cleanup()
        task, self._session_manager = self._session_manager, None
        if task is not None:
            self._closing.set()
            await asyncio.gather(task, return_exceptions=True)
