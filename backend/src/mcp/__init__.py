"""The todo tools over MCP: the server (server.py), built on first use and mounted by the app
(lazy.py), and the agent's in-process client (client.py)."""

# Where the app mounts the server. Kept here, not in client.py, so the app can mount it without
# importing the Agents SDK that the client needs (that import waits for the first chat).
MCP_PATH = "/mcp/"
