"""ChatKit requests past the app's limits are clear 4xx errors, never 500s, and store nothing:
ids no thread can have, pages the store cannot serve, and the message rules of `/chat`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from src.models.conversation import MESSAGE_MAX
from tests.chatkit.test_chatkit import add_message, new_thread, rest, send, user_input
from tests.conftest import User


@pytest.mark.parametrize("thread_id", ["conv_99999999999", "conv_²", "conv_007", "conv_-1"])
async def test_a_thread_id_no_conversation_can_have_is_a_404(
    client: httpx.AsyncClient, user: User, thread_id: str
) -> None:
    request = {"type": "threads.get_by_id", "params": {"thread_id": thread_id}}
    response = await send(client, user, request)
    assert response.status_code == 404, response.text
    assert thread_id in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": -5}, "limit"),
        ({"limit": 101}, "limit"),
        ({"after": "conv_99999999999"}, "after"),
        ({"after": "conv_²"}, "after"),
        ({"after": "nonsense"}, "after"),
    ],
)
async def test_a_thread_page_the_store_cannot_serve_is_a_422(
    client: httpx.AsyncClient, user: User, params: dict[str, Any], field: str
) -> None:
    response = await send(client, user, {"type": "threads.list", "params": params})
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["params", field]]


async def test_an_item_page_after_a_bad_item_id_is_a_422(
    client: httpx.AsyncClient, user: User
) -> None:
    thread_id, _ = await new_thread(client, user, "hello")
    request = {"type": "items.list", "params": {"thread_id": thread_id, "after": "msg_²"}}
    response = await send(client, user, request)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["params", "after"]


async def test_messages_follow_the_chat_rules(client: httpx.AsyncClient, user: User) -> None:
    too_long = {"type": "threads.create", "params": {"input": user_input("x" * (MESSAGE_MAX + 1))}}
    response = await send(client, user, too_long)
    assert response.status_code == 422, response.text
    assert str(MESSAGE_MAX) in response.json()["detail"][0]["msg"]

    with_nul = {"type": "threads.create", "params": {"input": user_input("add a\x00b")}}
    response = await send(client, user, with_nul)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:3] == ["params", "input", "content"]
    assert await rest(client, user, "/conversations") == []

    thread_id, _ = await new_thread(client, user, "hello")
    for request in (
        add_message(thread_id, "y" * (MESSAGE_MAX + 1)),
        add_message(thread_id, "a\x00b"),
        {"type": "threads.update", "params": {"thread_id": thread_id, "title": "a\x00b"}},
    ):
        response = await send(client, user, request)
        assert response.status_code == 422, response.text
    [conversation] = await rest(client, user, "/conversations")
    messages = await rest(client, user, f"/conversations/{conversation['id']}/messages")
    assert [m["content"] for m in messages][:1] == ["hello"] and len(messages) == 2
