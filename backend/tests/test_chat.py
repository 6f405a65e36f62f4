"""Chat through the real agent loop, the in-process MCP server and PostgreSQL; only the model
is scripted (agents.testing.ScriptedModel)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from agents.testing import ModelCall, ModelStep, ScriptedModel, assistant_message, function_call
from fastapi import FastAPI

from src.api.routes import chat as chat_routes
from src.mcp import client as mcp_client
from src.services import tasks as task_service
from tests.conftest import ChatClient, User, make_settings, running_app, script
from tests.support.auth import IdentityProvider
from tests.support.tasks_api import create_task, list_tasks, task_page
from tests.support.ui_stream import read_ui_stream


async def messages(client: httpx.AsyncClient, user: User, conversation_id: int) -> list[dict]:
    response = await client.get(
        user.url(f"/conversations/{conversation_id}/messages"), headers=user.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def texts_sent_to_model(model: ScriptedModel) -> list[tuple[str, str]]:
    call = model.first_call
    assert call is not None
    return [(item["role"], item["content"]) for item in call.input if "role" in item]


async def test_chat_adds_a_task_through_mcp(
    app: FastAPI, client: httpx.AsyncClient, chat: ChatClient, user: User
) -> None:
    script(
        app,
        [
            function_call(
                "add_task",
                {"title": "Buy milk", "priority": "high", "tags": ["home"]},
                call_id="call-1",
            )
        ],
        [assistant_message("Added 'Buy milk' with high priority.")],
    )
    body = await chat.reply(user, "add buy milk, high priority #home")
    assert body["response"] == "Added 'Buy milk' with high priority."
    [call] = body["tool_calls"]
    assert call["name"] == "add_task"
    assert call["arguments"] == {"title": "Buy milk", "priority": "high", "tags": ["home"]}
    assert call["result"]["status"] == "created"
    assert call["result"]["title"] == "Buy milk"

    tasks = await list_tasks(client, user)
    assert [(t["id"], t["title"], t["priority"]) for t in tasks] == [
        (call["result"]["task_id"], "Buy milk", "high")
    ]

    stored = await messages(client, user, body["conversation_id"])
    assert [(m["role"], m["content"]) for m in stored] == [
        ("user", "add buy milk, high priority #home"),
        ("assistant", "Added 'Buy milk' with high priority."),
    ]
    assert stored[0]["tool_calls"] is None
    assert stored[1]["tool_calls"] == body["tool_calls"]

    conversations = (await client.get(user.url("/conversations"), headers=user.headers)).json()
    assert [(c["id"], c["title"]) for c in conversations] == [
        (body["conversation_id"], "add buy milk, high priority #home")
    ]


async def test_conversation_history_reaches_the_model(
    app: FastAPI, client: httpx.AsyncClient, chat: ChatClient, user: User
) -> None:
    script(app, [assistant_message("Hello! What shall I add?")])
    first = await chat.reply(user, "hi")
    model = script(app, [assistant_message("Sure.")])
    second = await chat.reply(user, "add eggs", conversation_id=first["conversation_id"])
    assert second["conversation_id"] == first["conversation_id"]
    assert texts_sent_to_model(model) == [
        ("user", "hi"),
        ("assistant", "Hello! What shall I add?"),
        ("user", "add eggs"),
    ]
    assert len(await messages(client, user, first["conversation_id"])) == 4


async def test_chat_cannot_touch_another_users_tasks(
    app: FastAPI, client: httpx.AsyncClient, chat: ChatClient, user: User, other_user: User
) -> None:
    secret = await create_task(client, user, title="A's secret")
    # B's assistant is scripted to go after A's task by id and by claiming A's user_id.
    script(
        app,
        [
            function_call("complete_task", {"number": secret["number"]}, call_id="c1"),
            function_call("delete_task", {"number": secret["number"]}, call_id="c2"),
            function_call("list_tasks", {"status": "all", "user_id": user.id}, call_id="c3"),
            function_call("add_task", {"title": "planted", "user_id": user.id}, call_id="c4"),
            function_call("list_tasks", {"status": "all"}, call_id="c5"),
        ],
        [assistant_message("I could not do that.")],
    )
    response = await chat.send(other_user, f"complete and delete task {secret['number']}")
    assert response.status_code == 200, response.text
    results = {c["name"] + str(i): c["result"] for i, c in enumerate(response.json()["tool_calls"])}
    assert f"Task #{secret['number']} not found" in results["complete_task0"]
    assert f"Task #{secret['number']} not found" in results["delete_task1"]
    assert "user_id does not match" in results["list_tasks2"]
    assert "user_id does not match" in results["add_task3"]
    assert results["list_tasks4"] == []  # B sees only B's (no) tasks

    after = await client.get(user.url(f"/tasks/{secret['id']}"), headers=user.headers)
    assert after.json() == secret
    assert (await task_page(client, user))["total"] == 1


async def test_another_users_conversation_is_not_found(
    app: FastAPI, client: httpx.AsyncClient, chat: ChatClient, user: User, other_user: User
) -> None:
    script(app, [assistant_message("Noted.")])
    mine = (await chat.reply(user, "remember the milk"))["conversation_id"]
    model = script(app, [assistant_message("should not run")])
    response = await chat.send(other_user, "what did they say?", conversation_id=mine)
    assert response.status_code == 404
    assert model.remaining_steps == 1  # the model was never asked
    assert (
        await client.get(
            other_user.url(f"/conversations/{mine}/messages"), headers=other_user.headers
        )
    ).status_code == 404
    assert (
        await client.delete(other_user.url(f"/conversations/{mine}"), headers=other_user.headers)
    ).status_code == 404
    assert len(await messages(client, user, mine)) == 2


async def test_streaming_turn_parsed_like_use_chat(
    app: FastAPI, client: httpx.AsyncClient, chat: ChatClient, user: User
) -> None:
    script(
        app,
        [
            function_call(
                "add_task",
                {"title": "Call the dentist", "due_at": "2030-02-03T09:00:00Z"},
                call_id="call-7",
            )
        ],
        [assistant_message("Added 'Call the dentist' for Feb 3.")],
    )
    async with chat.stream(user, "remind me to call the dentist") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
        conversation_id = int(response.headers["x-conversation-id"])
        message = await read_ui_stream(response)

    assert message.done and message.finished and not message.errors
    assert message.raw[0]["type"] == "start"
    assert message.raw[0]["messageMetadata"] == {"conversation_id": conversation_id}
    assert message.raw[-1]["type"] == "finish"
    assert message.text == "Added 'Call the dentist' for Feb 3."
    [tool] = message.tools
    assert (tool["toolName"], tool["toolCallId"], tool["state"]) == (
        "add_task",
        "call-7",
        "output-available",
    )
    assert tool["input"] == {"title": "Call the dentist", "due_at": "2030-02-03T09:00:00Z"}
    assert tool["output"]["status"] == "created"
    # Steps bracket the model calls; the tool call sits before the text that reports it.
    kinds = [p["type"] for p in message.raw]
    assert kinds.index("tool-output-available") < kinds.index("text-start")
    assert kinds.count("start-step") == kinds.count("finish-step") == 2

    # Persisted exactly like the JSON endpoint.
    stored = await messages(client, user, conversation_id)
    assert [(m["role"], m["content"]) for m in stored] == [
        ("user", "remind me to call the dentist"),
        ("assistant", "Added 'Call the dentist' for Feb 3."),
    ]
    assert stored[1]["tool_calls"] == [
        {"name": "add_task", "arguments": tool["input"], "result": tool["output"]}
    ]


async def test_conversation_resumes_in_a_new_app_instance(
    app: FastAPI,
    chat: ChatClient,
    user: User,
    database_url: str,
    idp: IdentityProvider,
) -> None:
    script(
        app,
        [function_call("add_task", {"title": "Book flights"}, call_id="c1")],
        [assistant_message("Added 'Book flights'.")],
    )
    first = await chat.reply(user, "add book flights")

    # A new process: nothing carried over but the database.
    async with running_app(make_settings(database_url, idp)) as (app2, client2):
        model = script(app2, [assistant_message("You have 'Book flights' left.")])
        await ChatClient(client2).reply(
            user, "what's left?", conversation_id=first["conversation_id"]
        )
        assert texts_sent_to_model(model) == [
            ("user", "add book flights"),
            ("assistant", "Added 'Book flights'."),
            ("user", "what's left?"),
        ]
        stored = await messages(client2, user, first["conversation_id"])
        assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
        assert stored[1]["tool_calls"][0]["name"] == "add_task"


async def test_conversations_newest_first_and_delete(
    app: FastAPI, client: httpx.AsyncClient, chat: ChatClient, user: User
) -> None:
    ids = []
    for text in ("first", "second", "third"):
        script(app, [assistant_message("ok")])
        ids.append((await chat.reply(user, text))["conversation_id"])
    script(app, [assistant_message("ok")])
    await chat.send(user, "back to the first", conversation_id=ids[0])
    listed = (await client.get(user.url("/conversations"), headers=user.headers)).json()
    assert [c["id"] for c in listed] == [ids[0], ids[2], ids[1]]
    assert set(listed[0]) == {"id", "title", "created_at", "updated_at"}

    deleted = await client.delete(user.url(f"/conversations/{ids[2]}"), headers=user.headers)
    assert deleted.status_code == 204
    listed = (await client.get(user.url("/conversations"), headers=user.headers)).json()
    assert [c["id"] for c in listed] == [ids[0], ids[1]]
    gone = await client.get(user.url(f"/conversations/{ids[2]}/messages"), headers=user.headers)
    assert gone.status_code == 404


async def test_model_failure_is_stored_as_a_turn_that_says_so(
    app: FastAPI, client: httpx.AsyncClient, chat: ChatClient, user: User
) -> None:
    script(app, RuntimeError("upstream model unavailable"))
    response = await chat.send(user, "add milk")
    assert response.status_code == 502
    body = response.json()
    assert "assistant could not answer" in body["detail"]
    stored = await messages(client, user, body["conversation_id"])
    assert [(m["role"], m["content"]) for m in stored] == [
        ("user", "add milk"),
        ("assistant", body["detail"]),
    ]

    script(app, RuntimeError("upstream model unavailable"))
    async with chat.stream(user, "add milk") as streamed:
        message = await read_ui_stream(streamed)
    assert message.errors and "assistant could not answer" in message.errors[0]
    assert message.done


async def test_concurrent_turns_each_act_as_their_own_user(
    client: httpx.AsyncClient, chat: ChatClient, user: User, other_user: User
) -> None:
    """All conversations share one in-process MCP connection; each tool call still acts as the
    user of the request it belongs to."""
    titles = {user.id: ["alpha one", "alpha two", "alpha three"], other_user.id: ["beta one"]}
    people = {user.id: user, other_user.id: other_user}
    turns = [
        chat.send(people[owner], f"add {title}")
        for owner, owned in titles.items()
        for title in owned
    ]
    for response in await asyncio.gather(*turns):
        assert response.status_code == 200, response.text
    for owner, owned in titles.items():
        person = people[owner]
        tasks = await list_tasks(client, person)
        assert sorted(t["title"].lower() for t in tasks) == sorted(owned)


async def test_conversation_deleted_while_the_assistant_answers(
    app: FastAPI, client: httpx.AsyncClient, chat: ChatClient, user: User
) -> None:
    async def delete_it_meanwhile(_call: ModelCall) -> list:
        [conversation] = (await client.get(user.url("/conversations"), headers=user.headers)).json()
        deleted = await client.delete(
            user.url(f"/conversations/{conversation['id']}"), headers=user.headers
        )
        assert deleted.status_code == 204
        return [assistant_message("Too late.")]

    script(app, ModelStep.respond(delete_it_meanwhile))
    response = await chat.send(user, "remember this")
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]
    assert (await client.get(user.url("/conversations"), headers=user.headers)).json() == []


async def test_a_tool_that_hangs_fails_the_call_not_the_turn(
    database_url: str, idp: IdentityProvider, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hang(*_args: Any, **_kwargs: Any) -> None:
        await asyncio.sleep(30)

    monkeypatch.setattr(mcp_client, "TOOL_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(task_service, "list_tasks", hang)
    async with running_app(make_settings(database_url, idp)) as (_, client):
        started = asyncio.get_running_loop().time()
        body = await ChatClient(client).reply(user, "what's left?")
        assert asyncio.get_running_loop().time() - started < 10
    assert body["response"].startswith("I couldn't list your tasks")
    [call] = body["tool_calls"]
    assert call["name"] == "list_tasks"


async def test_chat_validation(client: httpx.AsyncClient, user: User) -> None:
    for body, field in [
        ({}, "message"),
        ({"message": "   "}, "message"),
        ({"message": "x" * 4001}, "message"),
        ({"message": "hi", "conversation_id": "abc"}, "conversation_id"),
    ]:
        response = await client.post(user.url("/chat"), json=body, headers=user.headers)
        assert response.status_code == 422, body
        assert [e["field"] for e in response.json()["detail"]] == [field]
    assert (await client.get(user.url("/conversations"), headers=user.headers)).json() == []


async def test_offline_assistant_drives_the_real_tools(
    client: httpx.AsyncClient, chat: ChatClient, user: User
) -> None:
    """No key and no script: the offline assistant answers through the same agent and tools."""
    added = await chat.reply(user, "add buy milk tomorrow, high priority #home")
    [call] = added["tool_calls"]
    assert call["name"] == "add_task" and call["result"]["status"] == "created"
    [task] = await list_tasks(client, user)
    assert (task["title"].lower(), task["priority"], task["tags"]) == ("buy milk", "high", ["home"])
    assert task["due_at"] is not None

    done = await chat.reply(user, "mark buy milk as done", conversation_id=added["conversation_id"])
    assert "complete_task" in [c["name"] for c in done["tool_calls"]]
    after = (await client.get(user.url(f"/tasks/{task['id']}"), headers=user.headers)).json()
    assert after["completed"] is True


async def test_slow_model_gets_keep_alives_and_the_turn_survives_a_disconnect(
    app: FastAPI, client: httpx.AsyncClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat_routes, "KEEP_ALIVE_SECONDS", 0.05)

    async def thinking(_call: ModelCall) -> list:
        await asyncio.sleep(0.5)
        return [assistant_message("Done thinking.")]

    script(app, ModelStep.respond(thinking))
    # Over a real socket (uvicorn), so that hanging up really reaches the app mid-stream.
    async with serving_over_http(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        async with http.stream(
            "POST", user.url("/chat/stream"), json={"message": "think hard"}, headers=user.headers
        ) as response:
            conversation_id = int(response.headers["x-conversation-id"])
            received = []
            async for line in response.aiter_lines():
                received.append(line)
                if line.startswith(": keep-alive"):
                    break  # hang up while the model is still thinking
        assert received[0].startswith('data: {"type":"start"')
        assert not any("Done thinking" in line for line in received)

        # The answer is stored all the same once the model finishes.
        for _ in range(100):
            stored = await messages(client, user, conversation_id)
            if len(stored) == 2:
                break
            await asyncio.sleep(0.05)
    assert [(m["role"], m["content"]) for m in stored] == [
        ("user", "think hard"),
        ("assistant", "Done thinking."),
    ]


@asynccontextmanager
async def serving_over_http(app: FastAPI) -> AsyncIterator[str]:
    """The (already started) app behind a real uvicorn server on a free local port."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        if task.done():
            task.result()  # it failed to start: raise why
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
