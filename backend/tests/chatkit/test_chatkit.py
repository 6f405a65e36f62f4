"""The ChatKit endpoint at protocol level: ChatKit requests in, ChatKit events out, threads
stored as the app's conversations. The model is the offline assistant or a ScriptedModel;
the agent, MCP tools and PostgreSQL are real."""

from __future__ import annotations

import json
from typing import Any

import httpx
from agents.testing import assistant_message, function_call
from fastapi import FastAPI

from tests.conftest import User, script

IN_UTC = "(Dates and times are in UTC: your time zone wasn't sent.)"


def user_input(text: str) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


def add_message(thread_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "threads.add_user_message",
        "params": {"thread_id": thread_id, "input": user_input(text)},
    }


async def send(client: httpx.AsyncClient, user: User, request: dict[str, Any]) -> httpx.Response:
    return await client.post(user.url("/chatkit"), json=request, headers=user.headers)


async def stream(
    client: httpx.AsyncClient, user: User, request: dict[str, Any]
) -> list[dict[str, Any]]:
    response = await send(client, user, request)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return [
        json.loads(line[len("data: ") :])
        for line in response.text.splitlines()
        if line.startswith("data: ")
    ]


def done_items(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["item"] for e in events if e["type"] == "thread.item.done"]


def assistant_text(events: list[dict[str, Any]]) -> str:
    [message] = [i for i in done_items(events) if i["type"] == "assistant_message"]
    return "".join(part["text"] for part in message["content"])


async def new_thread(
    client: httpx.AsyncClient, user: User, text: str
) -> tuple[str, list[dict[str, Any]]]:
    events = await stream(
        client, user, {"type": "threads.create", "params": {"input": user_input(text)}}
    )
    assert events[0]["type"] == "thread.created"
    return events[0]["thread"]["id"], events


async def rest(client: httpx.AsyncClient, user: User, path: str) -> Any:
    response = await client.get(user.url(path), headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_new_thread_with_the_offline_assistant(client: httpx.AsyncClient, user: User) -> None:
    thread_id, events = await new_thread(client, user, "add buy milk tomorrow, high priority")

    kinds = [e["type"] for e in events]
    assert kinds[:3] == ["thread.created", "thread.item.done", "stream_options"]
    assert "thread.item.added" in kinds and kinds.count("thread.item.updated") > 3
    user_item = done_items(events)[0]
    assert user_item["type"] == "user_message" and user_item["id"].startswith("msg_")
    # Sent without X-Timezone: the reply says its dates are UTC's.
    reply = "Added 'Buy milk' — due tomorrow, high priority. " + IN_UTC
    assert assistant_text(events) == reply

    [task] = (await rest(client, user, "/tasks"))["items"]
    assert (task["title"], task["priority"]) == ("Buy milk", "high")
    conversation_id = int(thread_id.removeprefix("conv_"))
    [conversation] = await rest(client, user, "/conversations")
    assert (conversation["id"], conversation["title"]) == (
        conversation_id,
        "add buy milk tomorrow, high priority",
    )
    stored = await rest(client, user, f"/conversations/{conversation_id}/messages")
    assert [(m["role"], m["content"]) for m in stored] == [
        ("user", "add buy milk tomorrow, high priority"),
        ("assistant", reply),
    ]
    [call] = stored[1]["tool_calls"]
    assert (call["name"], call["result"]["status"]) == ("add_task", "created")


async def test_scripted_turns_see_the_thread_history(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    model = script(
        app,
        [function_call("add_task", {"title": "Pay rent"}, call_id="call-1")],
        [assistant_message("Added 'Pay rent'.")],
        [assistant_message("You asked me to add 'Pay rent'.")],
    )

    thread_id, first = await new_thread(client, user, "add pay rent")
    assert assistant_text(first) == "Added 'Pay rent'."
    second = await stream(client, user, add_message(thread_id, "what did I ask?"))

    assert assistant_text(second) == "You asked me to add 'Pay rent'."
    last = model.last_call
    assert last is not None
    assert [(i["role"], i["content"]) for i in last.input if "role" in i] == [
        ("user", "add pay rent"),
        ("assistant", "Added 'Pay rent'."),
        ("user", "what did I ask?"),
    ]
    assert [t["title"] for t in (await rest(client, user, "/tasks"))["items"]] == ["Pay rent"]
    model.assert_complete()


async def test_reading_renaming_and_deleting_threads(client: httpx.AsyncClient, user: User) -> None:
    older, _ = await new_thread(client, user, "hi")
    thread_id, _ = await new_thread(client, user, "what's left?")

    thread = (
        await send(client, user, {"type": "threads.get_by_id", "params": {"thread_id": thread_id}})
    ).json()
    assert [i["type"] for i in thread["items"]["data"]] == ["user_message", "assistant_message"]
    assert all(i["id"].startswith("msg_") for i in thread["items"]["data"])

    listed = (await send(client, user, {"type": "threads.list", "params": {"limit": 1}})).json()
    assert [t["id"] for t in listed["data"]] == [thread_id] and listed["has_more"] is True
    rest_of = (
        await send(client, user, {"type": "threads.list", "params": {"after": listed["after"]}})
    ).json()
    assert [t["id"] for t in rest_of["data"]] == [older]

    page = (
        await send(
            client,
            user,
            {"type": "items.list", "params": {"thread_id": thread_id, "limit": 1, "order": "asc"}},
        )
    ).json()
    assert [i["type"] for i in page["data"]] == ["user_message"] and page["has_more"] is True

    renamed = await send(
        client,
        user,
        {"type": "threads.update", "params": {"thread_id": thread_id, "title": "Groceries"}},
    )
    assert renamed.status_code == 200 and renamed.json()["title"] == "Groceries"
    newest = (await rest(client, user, "/conversations"))[0]
    assert newest["title"] == "Groceries"

    deleted = await send(
        client, user, {"type": "threads.delete", "params": {"thread_id": thread_id}}
    )
    assert deleted.status_code == 200
    assert [c["id"] for c in await rest(client, user, "/conversations")] == [
        int(older.removeprefix("conv_"))
    ]


async def test_another_users_thread_is_not_found(
    client: httpx.AsyncClient, user: User, other_user: User
) -> None:
    thread_id, _ = await new_thread(client, user, "add secret plan")

    read = await send(
        client, other_user, {"type": "threads.get_by_id", "params": {"thread_id": thread_id}}
    )
    write = await send(client, other_user, add_message(thread_id, "delete task 1"))
    listed = (await send(client, other_user, {"type": "threads.list", "params": {}})).json()

    assert (read.status_code, write.status_code) == (404, 404)
    assert read.json() == {"detail": f"thread {thread_id} not found"}
    assert listed["data"] == []
    conversation_id = int(thread_id.removeprefix("conv_"))
    assert len(await rest(client, user, f"/conversations/{conversation_id}/messages")) == 2


async def test_bad_requests(client: httpx.AsyncClient, user: User) -> None:
    unknown = await send(client, user, {"type": "threads.explode", "params": {}})
    assert unknown.status_code == 422 and unknown.json()["detail"]

    no_token = await client.post(user.url("/chatkit"), json={"type": "threads.list", "params": {}})
    assert no_token.status_code == 401

    bad_id = await send(
        client, user, {"type": "threads.get_by_id", "params": {"thread_id": "thr_x"}}
    )
    assert bad_id.status_code == 404


async def test_retry_replaces_the_answer(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    script(app, [assistant_message("First answer.")], [assistant_message("Second answer.")])
    thread_id, events = await new_thread(client, user, "hello there")
    user_item_id = done_items(events)[0]["id"]
    assert assistant_text(events) == "First answer."

    retried = await stream(
        client,
        user,
        {
            "type": "threads.retry_after_item",
            "params": {"thread_id": thread_id, "item_id": user_item_id},
        },
    )

    assert assistant_text(retried) == "Second answer."
    conversation_id = int(thread_id.removeprefix("conv_"))
    stored = await rest(client, user, f"/conversations/{conversation_id}/messages")
    assert [(m["role"], m["content"]) for m in stored] == [
        ("user", "hello there"),
        ("assistant", "Second answer."),
    ]
