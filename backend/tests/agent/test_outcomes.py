"""The offline assistant end to end: the real agent loop calls the app's MCP server in-process
with the user's token, the tools write PostgreSQL, and the REST API shows the outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from agents import Runner
from fastapi import FastAPI

from src.agent.assistant import build_agent
from src.agent.provider import build_model
from src.core.timezones import in_zone, user_zone
from tests.conftest import User
from tests.support.mcp_in_process import in_process_mcp_server
from tests.support.tasks_api import create_task, list_tasks

from .standins import ModelSettings, Turn, at, fixed_clock, tool_calls


async def chat(
    app: FastAPI, user: User, message: str, history: list[dict[str, Any]] | None = None
) -> Turn:
    """A turn for a user whose browser says UTC."""
    async with in_process_mcp_server(app, bearer_token=user.token) as mcp:
        agent = build_agent(
            model=build_model(ModelSettings(), clock=fixed_clock),
            tools=mcp.agent_tools,
            clock=fixed_clock,
        )
        with in_zone(user_zone("UTC")):
            result = await Runner.run(
                agent, [*(history or []), {"role": "user", "content": message}]
            )
    return Turn(tool_calls(result.new_items), str(result.final_output))


def same_moment(value: str | None, expected: str) -> bool:
    return value is not None and datetime.fromisoformat(value) == datetime.fromisoformat(expected)


async def test_add_then_complete_by_title(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    added = await chat(app, user, "add buy milk tomorrow, high priority #home")
    assert added.reply == "Added 'Buy milk' — due tomorrow, high priority, #home."
    [task] = await list_tasks(client, user)
    assert (task["title"], task["priority"], task["tags"], task["completed"]) == (
        "Buy milk", "high", ["home"], False,
    )  # fmt: skip
    assert same_moment(task["due_at"], at(1))

    done = await chat(app, user, "mark buy milk as done")
    assert [name for name, _ in done.calls] == ["list_tasks", "complete_task"]
    assert done.calls[1][1] == {"number": task["number"]}
    assert done.reply == "Marked 'Buy milk' as done."
    [task] = await list_tasks(client, user)
    assert task["completed"] is True


async def test_delete_by_number(app: FastAPI, client: httpx.AsyncClient, user: User) -> None:
    keep = await create_task(client, user, title="Water plants")
    doomed = await create_task(client, user, title="Old chore")

    turn = await chat(app, user, f"delete task {doomed['number']}")

    assert turn.calls == [("delete_task", {"number": doomed["number"]})]
    assert turn.reply == "Deleted 'Old chore'."
    assert [t["id"] for t in await list_tasks(client, user)] == [keep["id"]]


async def test_rename_by_words(app: FastAPI, client: httpx.AsyncClient, user: User) -> None:
    task = await create_task(client, user, title="Dentist appointment", priority="high")

    turn = await chat(app, user, "rename the dentist task to dentist at 4pm")

    assert turn.reply == "Renamed 'Dentist appointment' to 'Dentist at 4pm'."
    [renamed] = await list_tasks(client, user)
    assert (renamed["id"], renamed["title"], renamed["priority"], renamed["due_at"]) == (
        task["id"], "Dentist at 4pm", "high", None,
    )  # fmt: skip


async def test_reschedule_then_clear_the_due_date(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    task = await create_task(client, user, title="Pay rent")

    moved = await chat(app, user, "move pay rent to next monday at 10am")
    assert moved.reply == "Moved 'Pay rent' to Monday at 10am."
    [current] = await list_tasks(client, user)
    assert same_moment(current["due_at"], at(6, 10))

    cleared = await chat(app, user, f"remove the due date from task {task['number']}")
    assert cleared.reply == "Removed the due date from 'Pay rent'."
    [current] = await list_tasks(client, user)
    assert current["due_at"] is None


async def test_completing_a_recurring_task_reports_the_next_one(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    added = await chat(app, user, "every weekday standup")
    assert "repeats daily" in added.reply
    [standup] = await list_tasks(client, user)

    done = await chat(app, user, f"complete task {standup['number']}")

    assert done.reply.startswith("Marked 'Standup' as done. The next one is due ")
    pending = await list_tasks(client, user, status="pending")
    assert [t["title"] for t in pending] == ["Standup"]
    assert pending[0]["id"] != standup["id"]


async def test_ambiguous_words_ask_and_change_nothing(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    milk = await create_task(client, user, title="Buy milk")
    bread = await create_task(client, user, title="Buy bread")

    first = await chat(app, user, "mark buy as done")
    assert "2 tasks match 'buy' — which one do you mean?" in first.reply
    assert all(not t["completed"] for t in await list_tasks(client, user))

    history = [
        {"role": "user", "content": "mark buy as done"},
        {"role": "assistant", "content": first.reply},
    ]
    listed = [
        int(line.split()[1].lstrip("#"))
        for line in first.reply.splitlines()
        if line.startswith("- #")
    ]
    second = await chat(app, user, "the second one", history)
    chosen = {milk["number"]: "Buy milk", bread["number"]: "Buy bread"}[listed[1]]
    assert second.reply == f"Marked '{chosen}' as done."
    done = [t["title"] for t in await list_tasks(client, user, status="completed")]
    assert done == [chosen]


async def test_listing_reads_the_database(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    await create_task(client, user, title="Pay rent", due_at=at(7), priority="high")
    await create_task(client, user, title="Read a book")
    finished = await create_task(client, user, title="Call mom")
    await client.patch(user.url(f"/tasks/{finished['id']}/complete"), headers=user.headers)

    left = await chat(app, user, "what's left?")
    assert left.reply.splitlines()[0] == "Here are your pending tasks (2):"
    assert "Pay rent — due Tue, Dec 1, high priority" in left.reply
    assert "Call mom" not in left.reply

    done = await chat(app, user, "show completed tasks")
    assert done.reply.splitlines() == [
        "Here is your completed task (1):",
        f"- ✓ #{finished['number']} Call mom",
    ]


async def test_another_users_task_is_out_of_reach(
    app: FastAPI, client: httpx.AsyncClient, user: User, other_user: User
) -> None:
    task = await create_task(client, user, title="Private thing")

    by_number = await chat(app, other_user, f"delete task {task['number']}")
    by_words = await chat(app, other_user, "mark private thing as done")

    number = task["number"]
    assert by_number.reply == f"I couldn't delete task {number}: Task #{number} not found."
    assert by_words.reply.startswith("I couldn't find a pending task matching 'private'.")
    [still] = await list_tasks(client, user)
    assert (still["id"], still["completed"]) == (task["id"], False)


async def test_tags_are_added_to_the_existing_ones(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    task = await create_task(client, user, title="Buy milk", tags=["home"])

    by_words = await chat(app, user, "tag buy milk with #errands")
    by_id = await chat(app, user, f"untag task {task['number']} #home")

    assert by_words.reply == "Tagged 'Buy milk' #errands. Its tags: #home #errands."
    assert by_id.reply == "Removed #home from 'Buy milk'. Its tags: #errands."
    [current] = await list_tasks(client, user)
    assert current["tags"] == ["errands"]
