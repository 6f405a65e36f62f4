"""Input PostgreSQL or Python's calendar cannot hold is a 422 naming the field (a tool error
naming the argument over MCP), never a 500; and nothing is stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import ChatClient, User
from tests.support.auth import IdentityProvider
from tests.test_mcp import call

NUL = "a\x00b"
# Each a valid ISO 8601 date-time whose UTC form lies outside the years 1–9999.
OVERFLOWING = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"]


def fields_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["detail"]]


async def titles(client: httpx.AsyncClient, user: User) -> list[str]:
    listed = await client.get(user.url("/tasks"), headers=user.headers)
    assert listed.status_code == 200, listed.text
    return [task["title"] for task in listed.json()["items"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": NUL}, "title"),
        ({"title": "ok", "description": NUL}, "description"),
        ({"title": "ok", "tags": ["home", NUL]}, "tags"),
    ],
)
async def test_nul_in_a_task_field_is_a_422_naming_it(
    client: httpx.AsyncClient, user: User, body: dict[str, Any], field: str
) -> None:
    assert fields_of(await client.post(user.url("/tasks"), json=body, headers=user.headers)) == [
        field
    ]
    task = (
        await client.post(user.url("/tasks"), json={"title": "kept"}, headers=user.headers)
    ).json()
    changed = await client.put(user.url(f"/tasks/{task['id']}"), json=body, headers=user.headers)
    assert fields_of(changed) == [field]
    assert await titles(client, user) == ["kept"]


@pytest.mark.parametrize("name", ["q", "tag"])
async def test_nul_in_a_list_query_is_a_422_naming_it(
    client: httpx.AsyncClient, user: User, name: str
) -> None:
    listed = await client.get(user.url("/tasks"), params={name: NUL}, headers=user.headers)
    assert fields_of(listed) == [name]


async def test_nul_in_a_chat_message_is_a_422(
    client: httpx.AsyncClient, chat: ChatClient, user: User
) -> None:
    assert fields_of(await chat.send(user, f"add {NUL}")) == ["message"]
    async with chat.stream(user, f"add {NUL}") as streamed:
        await streamed.aread()
        assert fields_of(streamed) == ["message"]
    conversations = await client.get(user.url("/conversations"), headers=user.headers)
    assert conversations.json() == []


@pytest.mark.parametrize("moment", OVERFLOWING)
async def test_a_due_date_outside_the_calendar_in_utc_is_a_422(
    client: httpx.AsyncClient, user: User, moment: str
) -> None:
    body = {"title": "far", "due_at": moment}
    assert fields_of(await client.post(user.url("/tasks"), json=body, headers=user.headers)) == [
        "due_at"
    ]
    task = (
        await client.post(user.url("/tasks"), json={"title": "kept"}, headers=user.headers)
    ).json()
    changed = await client.put(
        user.url(f"/tasks/{task['id']}"), json={"due_at": moment}, headers=user.headers
    )
    assert fields_of(changed) == ["due_at"]
    for name in ("due_before", "due_after"):
        listed = await client.get(user.url("/tasks"), params={name: moment}, headers=user.headers)
        assert fields_of(listed) == [name]
    assert await titles(client, user) == ["kept"]


async def test_a_number_is_not_a_date(client: httpx.AsyncClient, user: User) -> None:
    """Pydantic would read 0.5 as seconds after 1970; a user meant no such thing."""
    listed = await client.get(
        user.url("/tasks"), params={"due_before": "0.5"}, headers=user.headers
    )
    assert fields_of(listed) == ["due_before"]
    body = {"title": "when?", "due_at": 1700000000}
    assert fields_of(await client.post(user.url("/tasks"), json=body, headers=user.headers)) == [
        "due_at"
    ]


async def test_mcp_tools_name_the_bad_argument(app: FastAPI, user: User) -> None:
    for tool, arguments, name in [
        ("add_task", {"title": NUL}, "title"),
        ("add_task", {"title": "ok", "tags": [NUL]}, "tags"),
        ("add_task", {"title": "ok", "due_at": OVERFLOWING[0]}, "due_at"),
        ("update_task", {"number": 1, "description": NUL}, "description"),
        ("list_tasks", {"q": NUL}, "q"),
        ("list_tasks", {"tag": NUL}, "tag"),
        ("list_tasks", {"due_before": OVERFLOWING[1]}, "due_before"),
        ("list_tasks", {"due_after": OVERFLOWING[0]}, "due_after"),
    ]:
        error, message = await call(app, user, tool, **arguments)
        # Named, and said why: not the SDK's bare "Error executing tool <name>" of a crash.
        assert error and name in message and message != f"Error executing tool {tool}", message
    _, tasks = await call(app, user, "list_tasks", status="all")
    assert tasks == []


# A recurring task due at the end of the calendar has no next occurrence: the series ends.
LAST_DAY = "9999-12-31T12:00:00Z"


@pytest.mark.parametrize("recurrence", ["daily", "weekly", "monthly"])
async def test_a_series_at_the_end_of_the_calendar_ends_when_completed(
    client: httpx.AsyncClient, user: User, recurrence: str
) -> None:
    body = {"title": "pay rent", "due_at": LAST_DAY, "recurrence": recurrence}
    by_toggle = (await client.post(user.url("/tasks"), json=body, headers=user.headers)).json()
    by_put = (await client.post(user.url("/tasks"), json=body, headers=user.headers)).json()

    toggled = await client.patch(
        user.url(f"/tasks/{by_toggle['id']}/complete"), headers=user.headers
    )
    assert toggled.status_code == 200, toggled.text
    put = await client.put(
        user.url(f"/tasks/{by_put['id']}"), json={"completed": True}, headers=user.headers
    )
    assert put.status_code == 200, put.text
    listed = (await client.get(user.url("/tasks"), headers=user.headers)).json()
    assert [(t["title"], t["completed"]) for t in listed["items"]] == [("pay rent", True)] * 2


async def test_a_series_at_the_end_of_the_calendar_ends_over_mcp_and_chat(
    app: FastAPI, chat: ChatClient, user: User
) -> None:
    _, added = await call(
        app, user, "add_task", title="renew", due_at=LAST_DAY, recurrence="monthly"
    )
    error, completed = await call(app, user, "complete_task", number=added["number"])
    assert not error and completed["completed"] and "next_occurrence" not in completed

    await chat.reply(user, "add pay rent on 31 december 9999 every day")
    done = await chat.reply(user, "I finished pay rent")
    assert [call["name"] for call in done["tool_calls"]][-1] == "complete_task"
    assert done["tool_calls"][-1]["result"]["completed"] is True
    _, pending = await call(app, user, "list_tasks")
    assert pending == []


@pytest.mark.parametrize("subject", ["u" * 256, "user\x00admin"])
async def test_a_token_subject_no_user_id_can_be_is_a_401(
    client: httpx.AsyncClient, idp: IdentityProvider, subject: str
) -> None:
    token = idp.token(subject)
    response = await client.get("/api/someone/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert "subject" in response.json()["detail"]
