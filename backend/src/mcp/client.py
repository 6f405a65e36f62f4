"""The chat agent's connection to the app's own MCP server: in-process, no socket, no subprocess.

Requests travel as ASGI calls into the same app (so they pass the same auth, logging and error
handling as an external MCP client's) and carry the chatting user's bearer token, which is how
the tools learn who the user is. MCP SDK v2 requires an httpx2 client for this.
"""

from __future__ import annotations

from typing import Any

import httpx2
from agents.mcp import MCPServerStreamableHttp
from starlette.types import ASGIApp

from src.core.logging import request_id_var
from src.mcp import MCP_PATH

# Never resolved: the transport hands requests straight to the app.
INTERNAL_BASE_URL = "http://todo-backend.internal"
TOOL_TIMEOUT_SECONDS = 30.0


def in_process_mcp_server(app: ASGIApp, *, bearer_token: str) -> MCPServerStreamableHttp:
    def client_factory(
        headers: dict[str, str] | None = None, timeout: Any = None, auth: Any = None
    ) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app),
            base_url=INTERNAL_BASE_URL,
            headers=headers,
            timeout=timeout if timeout is not None else TOOL_TIMEOUT_SECONDS,
            auth=auth,
        )

    headers = {"Authorization": f"Bearer {bearer_token}"}
    if (request_id := request_id_var.get()) is not None:
        headers["X-Request-ID"] = request_id  # the tool calls log under the chat request's id
    return MCPServerStreamableHttp(
        params={
            "url": f"{INTERNAL_BASE_URL}{MCP_PATH}",
            "headers": headers,
            "timeout": TOOL_TIMEOUT_SECONDS,
            "httpx_client_factory": client_factory,
        },
        name="todo",
        cache_tools_list=True,
        client_session_timeout_seconds=TOOL_TIMEOUT_SECONDS,
    )
