"""One chat turn: the user's message stored, the agent run with the app's MCP tools acting as the
request's verified user, the reply and its tool calls stored (turn.py).

The endpoints are transports over it: api/routes/chat.py answers a turn as JSON or as a UI
message stream (ui_stream.py), api/routes/chatkit.py speaks ChatKit's protocol (chatkit/).
They import only deps.py at start-up; deps.py imports the rest, and with it the Agents SDK,
on the first chat.
"""
