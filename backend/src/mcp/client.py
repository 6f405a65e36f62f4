"""The chat agent's connection to the app's own MCP server: in memory, one per process.

The Agents SDK calls the tools through a real MCP client session (the MCP SDK's `Client`, which
connects to an in-process server directly: no HTTP, no JSON-RPC framing, no handshake per
turn), so the tools run exactly as an external MCP client would run them. The connection, the
tool list and the SDK's function tools made from it are built once per app and shared by every
conversation; whom a call acts for is bound per turn with `acting_as` from the chat request's
verified token.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from agents import AgentBase, FunctionTool, ModelBehaviorError, RunContextWrapper
from agents.mcp import MCPServer as AgentMCPServer
from agents.mcp import MCPUtil
from agents.tool import default_tool_error_function
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, GetPromptResult, ListPromptsResult, Tool

from mcp import Client
from src.mcp.server import SERVER_NAME

# A tool call that takes longer (a database that stopped answering) fails, and the model says so.
TOOL_TIMEOUT_SECONDS = 30.0


def tool_failure_for_model(context: RunContextWrapper[Any], error: Exception) -> str:
    """The tool result the model reads when a call fails. Arguments that are not a JSON object
    are the model's own mistake: it is told exactly that, so it can call again or tell the user
    (the SDK's default says only "An error occurred")."""
    if isinstance(error, ModelBehaviorError):
        return f"{error}. Call the tool again with its arguments as one JSON object."
    return default_tool_error_function(context, error)


class InProcessMCPServer(AgentMCPServer):
    """The app's MCP server as the Agents SDK sees it. The MCP client lives in a task of its
    own (its task group must start and end in one task), so any request may share it.

    `agent_tools` are the MCP tools as the SDK's function tools (each call goes to `call_tool`):
    built once here, rather than by every agent run from `mcp_servers`, since the server's tools
    never change while the process runs.
    """

    def __init__(self, server: MCPServer) -> None:
        super().__init__()
        self._server = server
        self._client: Client | None = None
        self._tools: list[Tool] = []
        self.agent_tools: list[FunctionTool] = []
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

    @property
    def name(self) -> str:
        return SERVER_NAME

    async def connect(self) -> None:
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def hold() -> None:
            try:
                connection = Client(self._server, read_timeout_seconds=TOOL_TIMEOUT_SECONDS)
                async with connection as client:
                    self._client = client
                    self._tools = (await client.list_tools()).tools
                    self.agent_tools = [
                        MCPUtil.to_function_tool(
                            tool,
                            self,
                            convert_schemas_to_strict=False,
                            failure_error_function=tool_failure_for_model,
                        )
                        for tool in self._tools
                    ]
                    ready.set_result(None)
                    await self._closing.wait()
            except BaseException as exc:
                if not ready.done():
                    ready.set_exception(exc)
                raise
            finally:
                self._client = None

        self._task = asyncio.create_task(hold(), name="in-process MCP client")
        await ready

    async def cleanup(self) -> None:
        self._closing.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    @property
    def cached_tools(self) -> list[Tool] | None:
        return self._tools

    async def list_tools(
        self, run_context: RunContextWrapper[Any] | None = None, agent: AgentBase | None = None
    ) -> list[Tool]:
        return self._tools

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        return await self._connected().call_tool(tool_name, arguments, meta=meta)

    async def list_prompts(self) -> ListPromptsResult:
        return await self._connected().list_prompts()

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None
    ) -> GetPromptResult:
        return await self._connected().get_prompt(name, arguments)

    def _connected(self) -> Client:
        if self._client is None:
            raise RuntimeError("the in-process MCP client is not connected")
        return self._client


async def connect_agent_server(server: MCPServer) -> InProcessMCPServer:
    """Connects the agent's client to `server` (see LazyMCP.agent_server, which keeps it)."""
    connection = InProcessMCPServer(server)
    await connection.connect()
    _freeze_long_lived_objects()
    return connection


def _freeze_long_lived_objects() -> None:
    """The first chat has just loaded the agent stack (the Agents SDK, the OpenAI types, the
    MCP tools): hundreds of thousands of objects that live as long as the process. Left to the
    garbage collector, each of its full passes walks all of them, a pause of a good part of a
    second that stalls every conversation in flight; frozen, its passes see only what turns
    allocate. (Measured: ~4 of ~31 CPU ms per turn, and those pauses set the p95.)"""
    gc.collect()
    gc.freeze()
