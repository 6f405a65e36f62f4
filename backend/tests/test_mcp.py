"""The MCP server at /mcp/: identity from the bearer token, tools against the real database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
from fastapi import FastAPI
from mcp.client.streamable_http import streamable_http_client

from mcp import Client
from tests.conftest import User
from tests.support.auth import IdentityProvider
from tests.support.mcp_http import INITIALIZE, MCP_HEADERS
from tests.support.mcp_in_process import in_process_mcp_server
from tests.support.tasks_api import list_tasks


async def call(app: FastAPI, user: User, tool: str, **arguments: Any) -> tuple[bool, Any]:
    """(is_error, result): the result parsed from the tool's JSON text, or the error text."""
    async with in_process_mcp_server(app, bearer_token=user.token) as server:
        result = await server.call_tool(tool, arguments)
    text = "".join(part.text for part in result.content if part.type == "text")
    if result.is_error:
        return True, text
    return False, json.loads(text)


async def test_lists_the_five_task_tools(app: FastAPI, user: User) -> None:
    async with in_process_mcp_server(app, bearer_token=user.token) as server:
        tools = {tool.name: tool for tool in await server.list_tools()}
    assert set(tools) == {"add_task", "list_tasks", "complete_task", "delete_task", "update_task"}
    add_params = tools["add_task"].input_schema["properties"]
    assert {"title", "description", "priority", "tags", "due_at", "recurrence", "user_id"} <= set(
        add_params
    )
    assert tools["add_task"].input_schema["required"] == ["title"]


async def test_tools_manage_the_callers_tasks(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    error, added = await call(
        app,
        user,
        "add_task",
        title="Buy milk",
        priority="high",
        tags=["#Home"],
        due_at="2030-05-01T09:00:00+00:00",
    )
    assert not error
    assert added["status"] == "created"
    assert added["title"] == "Buy milk"
    assert (added["priority"], added["tags"], added["due_at"]) == (
        "high",
        ["home"],
        "2030-05-01T09:00:00Z",
    )
    task_id = added["task_id"]

    # What the tool did is what the REST API sees.
    rest = await client.get(user.url(f"/tasks/{task_id}"), headers=user.headers)
    assert rest.json()["title"] == "Buy milk"

    _, listed = await call(app, user, "list_tasks")
    assert [t["id"] for t in listed] == [task_id]
    assert "user_id" not in listed[0]

    _, updated = await call(
        app, user, "update_task", number=added["number"], title="Buy oat milk", due_at=""
    )
    assert (updated["status"], updated["title"], updated["due_at"]) == (
        "updated",
        "Buy oat milk",
        None,
    )

    _, completed = await call(app, user, "complete_task", number=added["number"])
    assert completed["status"] == "completed" and completed["completed"] is True
    assert (await call(app, user, "list_tasks"))[1] == []
    _, done = await call(app, user, "list_tasks", status="completed")
    assert [t["title"] for t in done] == ["Buy oat milk"]

    _, deleted = await call(app, user, "delete_task", number=added["number"])
    assert (deleted["status"], deleted["task_id"]) == ("deleted", task_id)
    assert (
        await client.get(user.url(f"/tasks/{task_id}"), headers=user.headers)
    ).status_code == 404


async def test_completing_recurring_task_reports_next_occurrence(app: FastAPI, user: User) -> None:
    _, added = await call(
        app, user, "add_task", title="Stand-up", recurrence="daily", due_at="2030-01-01T09:00:00Z"
    )
    _, completed = await call(app, user, "complete_task", number=added["number"])
    nxt = completed["next_occurrence"]
    assert (nxt["title"], nxt["completed"], nxt["recurrence"]) == ("Stand-up", False, "daily")
    _, pending = await call(app, user, "list_tasks")
    assert [t["id"] for t in pending] == [nxt["id"]]


async def test_bad_arguments_are_tool_errors(app: FastAPI, user: User) -> None:
    error, message = await call(app, user, "add_task", title="")
    assert error and "title" in message
    error, message = await call(app, user, "update_task", number=1)
    assert error and "Nothing to change" in message
    error, message = await call(app, user, "complete_task", number=987654321)
    assert error and "Task #987654321 not found" in message


async def test_cannot_reach_another_users_tasks(app: FastAPI, user: User, other_user: User) -> None:
    _, added = await call(app, user, "add_task", title="A's secret")
    number = added["number"]
    for tool, arguments in [
        ("complete_task", {"number": number}),
        ("delete_task", {"number": number}),
        ("update_task", {"number": number, "title": "pwned"}),
    ]:
        error, message = await call(app, other_user, tool, **arguments)
        assert error and f"Task #{number} not found" in message, (tool, message)
    _, listed = await call(app, other_user, "list_tasks", status="all")
    assert listed == []
    # Claiming to be A through the user_id argument is refused outright.
    for tool, arguments in [
        ("list_tasks", {"user_id": user.id}),
        ("add_task", {"title": "planted", "user_id": user.id}),
        ("delete_task", {"number": number, "user_id": user.id}),
    ]:
        error, message = await call(app, other_user, tool, **arguments)
        assert error and "user_id does not match" in message, (tool, message)
    # A's own user_id is accepted, and A's task is untouched.
    error, mine = await call(app, user, "list_tasks", user_id=user.id)
    assert not error and [(t["title"], t["completed"]) for t in mine] == [("A's secret", False)]


async def test_http_endpoint_requires_a_valid_token(
    client: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    """What an external MCP client (an IDE, a desktop assistant) sees over plain HTTP."""
    missing = await client.post("/mcp/", json=INITIALIZE, headers=MCP_HEADERS)
    assert missing.status_code == 401
    expired = idp.token("someone", expires_in=-120)
    rejected = await client.post(
        "/mcp/", json=INITIALIZE, headers={**MCP_HEADERS, "authorization": f"Bearer {expired}"}
    )
    assert rejected.status_code == 401
    valid = {**MCP_HEADERS, "authorization": f"Bearer {idp.token('someone')}"}
    for path in ("/mcp/", "/mcp"):  # with or without the slash, no redirect
        accepted = await client.post(path, json=INITIALIZE, headers=valid)
        assert accepted.status_code == 200, path
        assert accepted.json()["result"]["serverInfo"]["name"] == "todo"


@asynccontextmanager
async def http_client(app: FastAPI, token: str) -> AsyncIterator[Client]:
    """An external MCP client (the MCP SDK's) talking streamable HTTP to /mcp with a token."""
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {token}"},
    )
    async with http, Client(streamable_http_client("http://testserver/mcp", http_client=http)) as c:
        yield c


async def test_external_client_acts_as_its_token(
    app: FastAPI, client: httpx.AsyncClient, user: User, other_user: User
) -> None:
    async with http_client(app, user.token) as mcp:
        tools = await mcp.list_tools()
        assert {t.name for t in tools.tools} >= {"add_task", "list_tasks"}
        added = await mcp.call_tool("add_task", {"title": "From my IDE", "priority": "high"})
        assert not added.is_error
        assert added.structured_content["status"] == "created"
        refused = await mcp.call_tool("list_tasks", {"user_id": other_user.id})
        assert refused.is_error and "user_id does not match" in refused.content[0].text
    tasks = await list_tasks(client, user)
    assert [(t["title"], t["priority"]) for t in tasks] == [("From my IDE", "high")]

    async with http_client(app, other_user.token) as mcp:
        listed = await mcp.call_tool("list_tasks", {"status": "all"})
    assert json.loads(listed.content[0].text) == []
