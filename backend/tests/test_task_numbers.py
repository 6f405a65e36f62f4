"""Per-user task numbers: #1, #2, … in creation order, never reused, never shared by two tasks
created at once; existing tasks numbered by the migration; and what chat's "task 3", "#3" and
"the first task" mean."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from agents.testing import assistant_message
from fastapi import FastAPI

from tests.conftest import User, make_settings, new_user, running_app, script
from tests.support.auth import IdentityProvider
from tests.support.database import create_database, drop_database, migrate
from tests.support.mcp_in_process import in_process_mcp_server
from tests.support.tasks_api import create_task, list_tasks


async def say(client: httpx.AsyncClient, user: User, message: str, **extra: Any) -> dict[str, Any]:
    response = await client.post(
        user.url("/chat"), json={"message": message, **extra}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_numbers_count_per_user_and_are_never_reused(
    client: httpx.AsyncClient, user: User, other_user: User
) -> None:
    mine = [await create_task(client, user, title=title) for title in ("one", "two", "three")]
    assert [t["number"] for t in mine] == [1, 2, 3]
    theirs = await create_task(client, other_user, title="their first")
    assert theirs["number"] == 1  # their own count, whatever the ids

    for task in (mine[2], mine[0]):  # the newest, then the oldest
        deleted = await client.delete(user.url(f"/tasks/{task['id']}"), headers=user.headers)
        assert deleted.status_code == 204
    assert (await create_task(client, user, title="four"))["number"] == 4
    listed = await list_tasks(client, user, sort="created", order="asc")
    assert [(t["number"], t["title"]) for t in listed] == [(2, "two"), (4, "four")]
    one = await client.get(user.url(f"/tasks/{listed[0]['id']}"), headers=user.headers)
    assert one.json()["number"] == 2

    # A recurring task's next occurrence is a new task with the next number.
    daily = await create_task(client, user, title="water plants", recurrence="daily")
    done = await client.patch(user.url(f"/tasks/{daily['id']}/complete"), headers=user.headers)
    assert done.status_code == 200
    pending = await list_tasks(client, user, status="pending", q="water")
    assert [(t["number"], t["title"]) for t in pending] == [(6, "water plants")]


async def test_tasks_created_at_once_never_share_a_number(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    created = await asyncio.gather(
        *(create_task(client, user, title=f"task {n}") for n in range(16))
    )
    # And through MCP, at the same time as the REST creates.
    async with in_process_mcp_server(app, bearer_token=user.token) as mcp:
        more = await asyncio.gather(
            *(create_task(client, user, title=f"rest {n}") for n in range(4)),
            *(mcp.call_tool("add_task", {"title": f"mcp {n}"}) for n in range(4)),
        )
    numbers = [t["number"] for t in created] + [t["number"] for t in more[:4]]
    numbers += [result.structured_content["number"] for result in more[4:]]
    assert sorted(numbers) == list(range(1, 25))


@pytest.fixture
def database_at_0001() -> Iterator[str]:
    url = create_database()
    migrate(url, "0001")
    yield url
    drop_database(url)


async def test_the_migration_numbers_existing_tasks_in_creation_order(
    database_at_0001: str, idp: IdentityProvider
) -> None:
    alice, bob = new_user(idp), new_user(idp)
    rows = [  # inserted out of creation order: ids do not decide
        (alice.id, "Alice second", datetime(2026, 1, 2, tzinfo=UTC)),
        (bob.id, "Bob only", datetime(2026, 1, 5, tzinfo=UTC)),
        (alice.id, "Alice first", datetime(2026, 1, 1, tzinfo=UTC)),
        (alice.id, "Alice third", datetime(2026, 1, 3, tzinfo=UTC)),
    ]
    connection = await asyncpg.connect(database_at_0001)
    try:
        for owner, title, day in rows:
            await connection.execute(
                "INSERT INTO task (user_id, title, completed, priority, tags, recurrence,"
                " created_at, updated_at) VALUES ($1, $2, false, 'medium', '[]', 'none',"
                " $3, $3)",
                owner,
                title,
                day,
            )
    finally:
        await connection.close()

    await asyncio.to_thread(migrate, database_at_0001)

    async with running_app(make_settings(database_at_0001, idp)) as (_, client):
        listed = await list_tasks(client, alice, sort="created", order="asc")
        assert [(t["number"], t["title"]) for t in listed] == [
            (1, "Alice first"), (2, "Alice second"), (3, "Alice third"),
        ]  # fmt: skip
        bobs = await list_tasks(client, bob)
        assert [(t["number"], t["title"]) for t in bobs] == [(1, "Bob only")]
        # The counters carry on from the backfilled numbers.
        assert (await create_task(client, alice, title="Alice fourth"))["number"] == 4
        assert (await create_task(client, bob, title="Bob second"))["number"] == 2


async def test_chat_task_numbers_are_the_users_own(
    client: httpx.AsyncClient, user: User, other_user: User
) -> None:
    # Someone else's tasks first, so that ids and numbers differ.
    others = [await create_task(client, other_user, title=f"theirs {n}") for n in range(3)]
    milk, bread, rent = [
        await create_task(client, user, title=t) for t in ("Milk", "Bread", "Rent")
    ]
    assert milk["id"] > others[-1]["id"] and milk["number"] == 1

    done = await say(client, user, "complete task 2")
    assert done["response"] == "Marked 'Bread' as done."
    [call] = done["tool_calls"]
    assert (call["name"], call["arguments"]) == ("complete_task", {"number": 2})
    assert call["result"]["number"] == 2

    gone = await say(client, user, "delete #3")
    assert gone["response"] == "Deleted 'Rent'."
    assert [t["title"] for t in await list_tasks(client, user)] == ["Bread", "Milk"]

    # Their numbers are theirs: "task 3" is not someone else's #3.
    refused = await say(client, user, "delete task 3")
    assert refused["response"] == "I couldn't delete task 3: Task #3 not found."
    assert len(await list_tasks(client, other_user)) == 3


async def test_ordinals_count_the_list_the_user_sees(client: httpx.AsyncClient, user: User) -> None:
    for title in ("Alpha", "Beta", "Gamma", "Delta"):
        await create_task(client, user, title=title)
    # The list shows #3, #1, #4 (sorted by title, say, and #2 filtered out).
    shown = {"visible_tasks": [3, 1, 4]}
    first = await say(client, user, "delete the first task", **shown)
    assert first["response"] == "Deleted 'Gamma'."
    assert [c["arguments"] for c in first["tool_calls"]] == [{"number": 3}]
    last = await say(client, user, "mark the last one as done", **shown)
    assert last["response"] == "Marked 'Delta' as done."
    second = await say(client, user, "change priority of the second task to high", **shown)
    assert second["response"] == "'Alpha' is now high priority."
    beyond = await say(client, user, "complete the fourth task", **shown)
    assert beyond["response"] == "There is no 4th task: your list shows 3 tasks."
    assert beyond["tool_calls"] == []

    # No list sent (an API client, ChatKit): the open tasks, newest first, as the list's
    # default order shows them — Beta (#2) is the newest one still open.
    newest = await say(client, user, "complete the first task")
    assert newest["response"] == "Marked 'Beta' as done."
    assert [c["name"] for c in newest["tool_calls"]] == ["list_tasks", "complete_task"]
    assert newest["tool_calls"][0]["arguments"] == {"status": "pending", "sort": "created"}
    remaining = await say(client, user, "delete the second task")
    assert remaining["response"] == "There is no 2nd task: you have 1 task open."


async def test_help_teaches_numbers_and_ordinals(client: httpx.AsyncClient, user: User) -> None:
    help_text = (await say(client, user, "help"))["response"]
    assert "“task 3” or “#3”" in help_text
    assert "“the first task”" in help_text and "“the last task”" in help_text


async def test_visible_tasks_are_validated(client: httpx.AsyncClient, user: User) -> None:
    for visible in ([0], list(range(1, 502)), ["x"]):
        response = await client.post(
            user.url("/chat"),
            json={"message": "hi", "visible_tasks": visible},
            headers=user.headers,
        )
        assert response.status_code == 422, visible
        assert {e["field"].split(".")[0] for e in response.json()["detail"]} == {"visible_tasks"}
    accepted = await say(client, user, "hi", visible_tasks=list(range(1, 501)))
    assert accepted["response"].startswith("Hi!")


async def test_a_models_instructions_name_the_list_the_user_sees(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    model = script(app, [assistant_message("ok")])
    await say(client, user, "delete the first task", visible_tasks=[3, 1, 4])
    instructions = (model.first_call.system_instructions if model.first_call else "") or ""
    assert "in this order: #3, #1, #4" in instructions

    model = script(app, [assistant_message("ok")])
    await say(client, user, "delete the first task")
    instructions = (model.first_call.system_instructions if model.first_call else "") or ""
    assert 'status "pending" and sort "created"' in instructions
