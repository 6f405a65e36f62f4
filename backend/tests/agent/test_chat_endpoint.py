"""The offline assistant behind the app's own chat endpoints (no API key configured): the
conversation history the endpoint stores and reloads is what the assistant reads, and its
streamed answer reaches the UI message stream word by word."""

from __future__ import annotations

import httpx

from tests.conftest import ChatClient, User
from tests.support.ui_stream import read_ui_stream


async def test_the_assistant_reports_itself_offline(client: httpx.AsyncClient, user: User) -> None:
    response = await client.get(user.url("/assistant"), headers=user.headers)
    assert response.json() == {"offline": True, "model": "offline-assistant"}


async def test_a_question_and_its_answer_span_two_requests(chat: ChatClient, user: User) -> None:
    for title in ("Buy milk", "Buy bread"):
        await chat.reply(user, f"add {title}")
    first = await chat.reply(user, "mark buy as done")
    assert "which one do you mean?" in first["response"]
    assert [c["name"] for c in first["tool_calls"]] == ["list_tasks"]

    second = await chat.reply(user, "the second one", conversation_id=first["conversation_id"])

    offered = [line for line in first["response"].splitlines() if line.startswith("- #")]
    chosen = offered[1].split(" ", 2)[2]
    assert second["response"] == f"Marked '{chosen}' as done."
    assert [c["name"] for c in second["tool_calls"]] == ["complete_task"]
    assert second["tool_calls"][0]["result"]["status"] == "completed"


async def test_streamed_turn_arrives_word_by_word_with_tool_parts(
    chat: ChatClient, user: User
) -> None:
    async with chat.stream(user, "add pay rent tomorrow high priority") as response:
        assert response.status_code == 200
        message = await read_ui_stream(response)

    assert message.errors == [] and message.finished
    # No X-Timezone header: the dates are UTC's, and the reply says so.
    assert message.text == (
        "Added 'Pay rent' — due tomorrow, high priority. "
        "(Dates and times are in UTC: your time zone wasn't sent.)"
    )
    deltas = [p for p in message.raw if p["type"] == "text-delta"]
    assert len(deltas) == len(message.text.split())
    [tool] = message.tools
    assert tool["toolName"] == "add_task" and tool["state"] == "output-available"
    assert tool["input"]["title"] == "Pay rent" and tool["input"]["priority"] == "high"
    assert tool["output"]["status"] == "created"
