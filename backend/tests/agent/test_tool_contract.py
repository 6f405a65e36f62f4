"""The unit tests' stand-in tools and the phrasing table speak the real MCP server's language:
same tool names, same parameters, values its schemas accept."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from tests.conftest import User
from tests.support.mcp_in_process import in_process_mcp_server

from .standins import TaskStore, standin_tools
from .test_phrasings import PHRASINGS


@pytest.fixture
async def mcp_schemas(app: FastAPI, user: User) -> dict[str, dict[str, Any]]:
    async with in_process_mcp_server(app, bearer_token=user.token) as mcp:
        tools = await mcp.list_tools()
    return {tool.name: tool.input_schema for tool in tools}


def allowed_values(schema: dict[str, Any]) -> set[Any] | None:
    """The enum a property is limited to (through anyOf/nullable wrappers), if any."""
    if "enum" in schema:
        return set(schema["enum"])
    for option in schema.get("anyOf", []):
        values = allowed_values(option)
        if values is not None:
            return values | (
                {None} if any(o.get("type") == "null" for o in schema["anyOf"]) else set()
            )
    return None


def test_standins_mirror_the_mcp_tools(mcp_schemas: dict[str, dict[str, Any]]) -> None:
    standins = {tool.name: tool.params_json_schema for tool in standin_tools(TaskStore())}
    assert set(standins) == set(mcp_schemas) >= {
        "add_task", "list_tasks", "complete_task", "delete_task", "update_task",
    }  # fmt: skip
    for name, schema in mcp_schemas.items():
        # user_id exists for external MCP clients; the assistant never sends it.
        assert set(standins[name]["properties"]) == set(schema["properties"]) - {"user_id"}, name


@pytest.mark.parametrize(("message", "calls", "reply"), PHRASINGS, ids=[p[0] for p in PHRASINGS])
def test_expected_calls_fit_the_mcp_schemas(
    mcp_schemas: dict[str, dict[str, Any]], message: str, calls: list[Any], reply: str
) -> None:
    for name, arguments in calls:
        schema = mcp_schemas[name]
        assert "user_id" not in arguments
        assert set(arguments) <= set(schema["properties"]), (name, arguments)
        assert set(schema.get("required", [])) <= set(arguments), (name, arguments)
        for key, value in arguments.items():
            values = allowed_values(schema["properties"][key])
            assert values is None or value in values, (name, key, value)


def test_the_schema_check_knows_the_enums(mcp_schemas: dict[str, dict[str, Any]]) -> None:
    properties = mcp_schemas["update_task"]["properties"]
    assert allowed_values(properties["priority"]) == {"low", "medium", "high", None}
    assert allowed_values(properties["recurrence"]) == {"none", "daily", "weekly", "monthly", None}
    assert allowed_values(mcp_schemas["list_tasks"]["properties"]["status"]) == {
        "pending", "completed", "all",
    }  # fmt: skip
