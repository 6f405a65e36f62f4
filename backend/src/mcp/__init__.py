"""The todo tools over MCP: the server (server.py) and the agent's in-process client (client.py)."""

from typing import Any

# Where the app mounts the server. Kept here, not in client.py, so the app can mount it without
# importing the Agents SDK that the client needs (that import waits for the first chat).
MCP_PATH = "/mcp/"

# The app.state attribute holding the shared in-process client once the first chat opened it.
IN_PROCESS_CLIENT_STATE = "mcp_in_process_client"


async def close_in_process_client(app: Any) -> None:
    """Closes the agent's in-process MCP connection, if a chat opened one (at app shutdown)."""
    client = getattr(app.state, IN_PROCESS_CLIENT_STATE, None)
    if client is not None:
        await client.cleanup()
        delattr(app.state, IN_PROCESS_CLIENT_STATE)
