"""The path a user with an API key takes: the app configured with OPENAI_API_KEY and
OPENAI_BASE_URL, talking over a real socket to a local OpenAI-compatible server (scripted
replies), through the real agent, MCP tools and PostgreSQL. Every test runs over Chat
Completions and over the Responses API (OPENAI_API).

A turn the model fails is stored whole: the user's message and, as the reply, the sentence the
user was shown (with any tool calls that ran before the failure), so a reload shows what the
chat showed."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.chatkit.test_chatkit import new_thread
from tests.conftest import ChatClient, User, make_settings, running_app
from tests.support import fake_openai
from tests.support.auth import IdentityProvider
from tests.support.fake_openai import FakeOpenAI, error, text, tool_call
from tests.support.tasks_api import list_tasks
from tests.support.ui_stream import UIMessage, read_ui_stream

API_KEY = "sk-fake-key"
MODEL = "gpt-fake-1"
TIMEOUT_SECONDS = 1.0
# Far beyond any scripted case: a turn still running by then is a hang, not a slow answer.
HANG = 30.0


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["chat_completions", "responses"])
async def model_app(
    request: pytest.FixtureRequest, database_url: str, idp: IdentityProvider, fake: FakeOpenAI
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = make_settings(
        database_url,
        idp,
        openai_api_key=API_KEY,
        openai_base_url=fake.url,
        openai_model=MODEL,
        openai_api=request.param,
        openai_timeout_seconds=TIMEOUT_SECONDS,
    )
    async with running_app(settings) as pair:
        yield pair


@pytest.fixture
def api(model_app: tuple[FastAPI, httpx.AsyncClient]) -> str:
    return model_app[0].state.settings.openai_api


@pytest.fixture
def model_client(model_app: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return model_app[1]


@pytest.fixture
def model_chat(model_client: httpx.AsyncClient) -> ChatClient:
    return ChatClient(model_client)


async def stored(client: httpx.AsyncClient, user: User, conversation_id: int) -> list[dict]:
    response = await client.get(
        user.url(f"/conversations/{conversation_id}/messages"), headers=user.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def streamed(chat: ChatClient, user: User, message: str) -> tuple[int, UIMessage]:
    async with asyncio.timeout(HANG), chat.stream(user, message) as response:
        assert response.status_code == 200
        return int(response.headers["x-conversation-id"]), await read_ui_stream(response)


def add_milk_script() -> tuple[fake_openai.Reply, ...]:
    return (
        tool_call("add_task", {"title": "Buy milk", "priority": "high"}, call_id="call_milk"),
        text("Added 'Buy milk' with high priority."),
    )


def tool_output_sent_back(request: fake_openai.ModelRequest) -> str:
    """The tool result the app sent the model in its follow-up request."""
    if request.api == "chat_completions":
        [output] = [m for m in request.body["messages"] if m["role"] == "tool"]
        assert output["tool_call_id"] == "call_milk"
        return json.dumps(output["content"])
    [output] = [i for i in request.body["input"] if i.get("type") == "function_call_output"]
    assert output["call_id"] == "call_milk"
    return json.dumps(output["output"])


async def test_a_turn_adds_a_task_through_mcp(
    fake: FakeOpenAI, api: str, model_client: httpx.AsyncClient, model_chat: ChatClient, user: User
) -> None:
    fake.script(*add_milk_script())
    async with asyncio.timeout(HANG):
        body = await model_chat.reply(user, "add buy milk, high priority")
    assert body["response"] == "Added 'Buy milk' with high priority."
    [call] = body["tool_calls"]
    assert (call["name"], call["arguments"]) == (
        "add_task",
        {"title": "Buy milk", "priority": "high"},
    )
    assert call["result"]["status"] == "created"

    [task] = await list_tasks(model_client, user)
    assert (task["id"], task["title"], task["priority"]) == (
        call["result"]["task_id"],
        "Buy milk",
        "high",
    )

    first, second = fake.requests
    assert {r.api for r in fake.requests} == {api}
    assert not first.stream and not second.stream
    assert first.headers["authorization"] == f"Bearer {API_KEY}"
    assert first.body["model"] == MODEL
    tools = first.body["tools"]
    names = [t["function"]["name"] if "function" in t else t["name"] for t in tools]
    assert {"add_task", "list_tasks", "complete_task", "delete_task", "update_task"} <= set(names)
    assert "Buy milk" in tool_output_sent_back(second)

    messages = await stored(model_client, user, body["conversation_id"])
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "add buy milk, high priority"),
        ("assistant", "Added 'Buy milk' with high priority."),
    ]
    assert messages[1]["tool_calls"] == body["tool_calls"]


async def test_a_streamed_turn_arrives_in_deltas_and_adds_the_task(
    fake: FakeOpenAI, model_client: httpx.AsyncClient, model_chat: ChatClient, user: User
) -> None:
    fake.script(*add_milk_script())
    conversation_id, message = await streamed(model_chat, user, "add buy milk, high priority")

    assert message.done and message.finished and not message.errors
    assert message.text == "Added 'Buy milk' with high priority."
    deltas = [p["delta"] for p in message.raw if p["type"] == "text-delta"]
    assert deltas == ["Added ", "'Buy ", "milk' ", "with ", "high ", "priority."]
    [tool] = message.tools
    assert (tool["toolName"], tool["toolCallId"], tool["state"]) == (
        "add_task",
        "call_milk",
        "output-available",
    )
    assert tool["input"] == {"title": "Buy milk", "priority": "high"}
    assert tool["output"]["status"] == "created"
    assert all(r.stream for r in fake.requests) and len(fake.requests) == 2

    [task] = await list_tasks(model_client, user)
    assert task["title"] == "Buy milk"
    messages = await stored(model_client, user, conversation_id)
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "add buy milk, high priority"),
        ("assistant", "Added 'Buy milk' with high priority."),
    ]
    assert messages[1]["tool_calls"] == [
        {"name": "add_task", "arguments": tool["input"], "result": tool["output"]}
    ]


async def test_usage_of_every_model_call_is_logged_per_turn(
    fake: FakeOpenAI, model_chat: ChatClient, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    milk, reply = add_milk_script()
    milk.input_tokens, milk.output_tokens = 120, 15
    reply.input_tokens, reply.output_tokens = 180, 9
    for send in ("json", "stream"):
        fake.script(milk, reply)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="src.chat.record"):
            if send == "json":
                await model_chat.reply(user, "add buy milk")
            else:
                await streamed(model_chat, user, "add buy milk")
        [record] = [r for r in caplog.records if r.getMessage() == "chat turn"]
        usage = {k: getattr(record, k) for k in ("model_requests", "input_tokens", "output_tokens")}
        assert usage == {"model_requests": 2, "input_tokens": 300, "output_tokens": 24}, send
        assert record.model == MODEL


# Failures ---------------------------------------------------------------------------------------

RETRY_SOON = {"retry-after-ms": "10"}  # the OpenAI client's own retries, without the wait
RATE_LIMITED = error(429, "Rate limit reached", headers=RETRY_SOON)
SERVER_ERROR = error(500, "The server had an error", headers=RETRY_SOON)
SILENT = text("I am about to say something long", stall_after=3)

# failure: (replies to the JSON endpoint's calls, to the stream endpoint's, status, notice words).
# The OpenAI client retries 429, 5xx and a silent server twice; a bad key, and a stream that
# stops half-way, not at all. The JSON endpoint calls the model without streaming, so there a
# stalled stream is a server that never answers.
FAILURES = {
    "bad key": ([error(401, "Incorrect API key provided")], None, 502, "API key"),
    "rate limit": ([RATE_LIMITED] * 3, None, 503, "busy"),
    "server error": ([SERVER_ERROR] * 3, None, 502, "failed to answer"),
    "stalled stream": ([SILENT] * 3, [SILENT], 504, "did not answer in time"),
}


@pytest.mark.parametrize("failure", FAILURES)
async def test_a_failing_model_reaches_the_user_as_a_sentence(
    failure: str,
    fake: FakeOpenAI,
    model_client: httpx.AsyncClient,
    model_chat: ChatClient,
    user: User,
) -> None:
    json_replies, stream_replies, status, words = FAILURES[failure]

    fake.script(*json_replies)
    async with asyncio.timeout(HANG):
        response = await model_chat.send(user, "add buy milk")
    assert response.status_code == status, response.text
    notice = response.json()["detail"]
    assert words in notice and notice.endswith("."), notice
    if status == 503:
        assert int(response.headers["retry-after"]) > 0
    assert fake.unused == 0
    messages = await stored(model_client, user, response.json()["conversation_id"])
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "add buy milk"),
        ("assistant", notice),
    ]

    fake.script(*(stream_replies or json_replies))
    conversation_id, message = await streamed(model_chat, user, "add buy milk")
    assert message.errors == [notice] and message.finished and message.done
    assert fake.unused == 0
    messages = await stored(model_client, user, conversation_id)
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "add buy milk"),
        ("assistant", notice),
    ]
    assert await list_tasks(model_client, user) == []


@pytest.mark.parametrize("failure", FAILURES)
async def test_a_failing_model_reaches_a_chatkit_user_as_the_same_sentence(
    failure: str, fake: FakeOpenAI, model_client: httpx.AsyncClient, user: User
) -> None:
    json_replies, stream_replies, _, words = FAILURES[failure]
    fake.script(*(stream_replies or json_replies))
    async with asyncio.timeout(HANG):
        thread_id, events = await new_thread(model_client, user, "add buy milk")

    [error] = [e for e in events if e["type"] == "error"]
    assert words in error["message"] and error["allow_retry"], error
    assert fake.unused == 0
    conversation_id = int(thread_id.removeprefix("conv_"))
    messages = await stored(model_client, user, conversation_id)
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "add buy milk"),
        ("assistant", error["message"]),
    ]


async def test_a_turn_past_its_deadline_ends_with_a_sentence_on_every_endpoint(
    database_url: str, idp: IdentityProvider, fake: FakeOpenAI, user: User
) -> None:
    """CHAT_TURN_TIMEOUT_SECONDS bounds a turn even when the model call's own timeout is longer:
    the JSON endpoint, the stream and ChatKit each end the turn with the same sentence."""
    settings = make_settings(
        database_url,
        idp,
        openai_api_key=API_KEY,
        openai_base_url=fake.url,
        openai_model=MODEL,
        openai_timeout_seconds=HANG,
        chat_turn_timeout_seconds=TIMEOUT_SECONDS,
    )
    async with running_app(settings) as (_, client), asyncio.timeout(HANG):
        chat = ChatClient(client)
        fake.script(SILENT)
        response = await chat.send(user, "add buy milk")
        assert response.status_code == 504, response.text
        notice = response.json()["detail"]
        assert "did not answer in time" in notice
        conversations = [response.json()["conversation_id"]]

        fake.script(SILENT)
        conversation_id, message = await streamed(chat, user, "add buy milk")
        assert message.errors == [notice] and message.finished
        conversations.append(conversation_id)

        fake.script(SILENT)
        thread_id, events = await new_thread(client, user, "add buy milk")
        assert [e["message"] for e in events if e["type"] == "error"] == [notice]
        conversations.append(int(thread_id.removeprefix("conv_")))

        for conversation_id in conversations:
            messages = await stored(client, user, conversation_id)
            assert [(m["role"], m["content"]) for m in messages] == [
                ("user", "add buy milk"),
                ("assistant", notice),
            ]
        assert len(fake.requests) == 1  # the model was called once per turn, never again


async def test_a_failure_after_a_tool_ran_keeps_the_tool_call_with_the_notice(
    fake: FakeOpenAI, model_client: httpx.AsyncClient, model_chat: ChatClient, user: User
) -> None:
    """The task was added before the model failed: the stored turn says both, so the user
    doesn't add it again after a reload."""
    milk, _ = add_milk_script()
    for send in ("json", "stream"):
        fake.script(milk, *[SERVER_ERROR] * 3)
        if send == "json":
            response = await model_chat.send(user, "add buy milk")
            assert response.status_code == 502
            conversation_id, notice = response.json()["conversation_id"], response.json()["detail"]
        else:
            conversation_id, message = await streamed(model_chat, user, "add buy milk")
            [notice] = message.errors
            assert [t["output"]["status"] for t in message.tools] == ["created"]
        user_message, reply = await stored(model_client, user, conversation_id)
        assert (reply["role"], reply["content"]) == ("assistant", notice)
        [call] = reply["tool_calls"]
        assert (call["name"], call["result"]["status"]) == ("add_task", "created"), send
    assert [t["title"] for t in await list_tasks(model_client, user)] == ["Buy milk", "Buy milk"]


async def test_malformed_tool_arguments_add_nothing_and_the_model_says_so(
    fake: FakeOpenAI, model_client: httpx.AsyncClient, model_chat: ChatClient, user: User
) -> None:
    """The model is told its arguments were not JSON (as OpenAI's own tools do) and answers."""
    for send in ("json", "stream"):
        fake.script(
            tool_call("add_task", '{"title": "Buy milk", "priority": ', call_id="call_bad"),
            text("Sorry, I could not add that task."),
        )
        if send == "json":
            async with asyncio.timeout(HANG):
                body = await model_chat.reply(user, "add buy milk")
            conversation_id, reply = body["conversation_id"], body["response"]
        else:
            conversation_id, message = await streamed(model_chat, user, "add buy milk")
            assert not message.errors and message.finished
            reply = message.text
        assert reply == "Sorry, I could not add that task."
        error_sent_back = fake.requests[1].body
        assert "Invalid JSON input for tool add_task" in str(error_sent_back), send
        messages = await stored(model_client, user, conversation_id)
        assert [m["role"] for m in messages] == ["user", "assistant"]
    assert await list_tasks(model_client, user) == []
