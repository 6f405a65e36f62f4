"""REST task API: CRUD, filters, sorting, pagination, validation, recurrence, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import User
from tests.support.tasks_api import create_task, task_page


def titles(page: dict) -> list[str]:
    return [task["title"] for task in page["items"]]


async def test_create_read_update_delete(client: httpx.AsyncClient, user: User) -> None:
    created = await create_task(
        client,
        user,
        title="  Buy milk ",
        description="2 litres",
        priority="high",
        tags=["#Home", "errands", "home"],
        due_at="2030-01-02T09:00:00+02:00",
    )
    assert created["title"] == "Buy milk"
    assert created["user_id"] == user.id
    assert created["completed"] is False
    assert created["priority"] == "high"
    assert created["tags"] == ["home", "errands"]
    assert created["recurrence"] == "none"
    assert datetime.fromisoformat(created["due_at"]) == datetime(2030, 1, 2, 7, 0, tzinfo=UTC)
    assert datetime.fromisoformat(created["created_at"]).tzinfo is not None

    fetched = await client.get(user.url(f"/tasks/{created['id']}"), headers=user.headers)
    assert fetched.status_code == 200
    assert fetched.json() == created

    updated = await client.put(
        user.url(f"/tasks/{created['id']}"),
        json={"title": "Buy oat milk", "due_at": None, "description": None},
        headers=user.headers,
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["title"], body["due_at"], body["description"]) == ("Buy oat milk", None, None)
    assert body["priority"] == "high"  # fields not sent are unchanged
    assert body["updated_at"] > created["updated_at"]

    deleted = await client.delete(user.url(f"/tasks/{created['id']}"), headers=user.headers)
    assert deleted.status_code == 204
    gone = await client.get(user.url(f"/tasks/{created['id']}"), headers=user.headers)
    assert gone.status_code == 404
    assert gone.json() == {"detail": f"task {created['id']} not found"}


async def test_toggle_complete(client: httpx.AsyncClient, user: User) -> None:
    task = await create_task(client, user, title="Call mum")
    url = user.url(f"/tasks/{task['id']}/complete")
    first = await client.patch(url, headers=user.headers)
    assert first.json()["completed"] is True
    second = await client.patch(url, headers=user.headers)
    assert second.json()["completed"] is False
    page = await task_page(client, user)
    assert page["total"] == 1  # a task without recurrence never spawns another


async def test_list_filters(client: httpx.AsyncClient, user: User) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    milk = await create_task(
        client,
        user,
        title="Buy milk",
        tags=["home"],
        priority="high",
        due_at=(now + timedelta(days=1)).isoformat(),
    )
    await create_task(
        client,
        user,
        title="Write report",
        description="quarterly numbers",
        tags=["work"],
        due_at=(now + timedelta(days=5)).isoformat(),
    )
    await create_task(client, user, title="100% done_ish", priority="low")
    await client.patch(user.url(f"/tasks/{milk['id']}/complete"), headers=user.headers)

    assert titles(await task_page(client, user, status="completed")) == ["Buy milk"]
    assert sorted(titles(await task_page(client, user, status="pending"))) == [
        "100% done_ish",
        "Write report",
    ]
    assert titles(await task_page(client, user, priority="low")) == ["100% done_ish"]
    assert titles(await task_page(client, user, tag="#Work")) == ["Write report"]
    assert titles(await task_page(client, user, q="QUARTERLY")) == ["Write report"]
    assert titles(await task_page(client, user, q="100%")) == ["100% done_ish"]
    assert titles(await task_page(client, user, q="0%d")) == []  # % and _ are literal
    soon = await task_page(client, user, due_before=(now + timedelta(days=2)).isoformat())
    assert titles(soon) == ["Buy milk"]
    later = await task_page(client, user, due_after=(now + timedelta(days=2)).isoformat())
    assert titles(later) == ["Write report"]
    combined = await task_page(client, user, status="pending", tag="home")
    assert combined == {"items": [], "total": 0}


async def test_sorting(client: httpx.AsyncClient, user: User) -> None:
    await create_task(client, user, title="banana", priority="low", due_at="2030-03-01T00:00:00Z")
    await create_task(client, user, title="Apple", priority="high")
    await create_task(
        client, user, title="cherry", priority="medium", due_at="2030-01-01T00:00:00Z"
    )

    assert titles(await task_page(client, user)) == ["cherry", "Apple", "banana"]  # newest first
    assert titles(await task_page(client, user, sort="created", order="asc")) == [
        "banana",
        "Apple",
        "cherry",
    ]
    assert titles(await task_page(client, user, sort="title")) == ["Apple", "banana", "cherry"]
    assert titles(await task_page(client, user, sort="title", order="desc")) == [
        "cherry",
        "banana",
        "Apple",
    ]
    assert titles(await task_page(client, user, sort="priority")) == ["Apple", "cherry", "banana"]
    # Soonest first; tasks without a due date last in either direction.
    assert titles(await task_page(client, user, sort="due")) == ["cherry", "banana", "Apple"]
    assert titles(await task_page(client, user, sort="due", order="desc")) == [
        "banana",
        "cherry",
        "Apple",
    ]


async def test_pagination_reports_total(client: httpx.AsyncClient, user: User) -> None:
    for n in range(7):
        await create_task(client, user, title=f"task {n}")
    first = await task_page(client, user, sort="created", order="asc", limit=3)
    second = await task_page(client, user, sort="created", order="asc", limit=3, offset=3)
    last = await task_page(client, user, sort="created", order="asc", limit=3, offset=6)
    assert (first["total"], second["total"], last["total"]) == (7, 7, 7)
    assert titles(first) + titles(second) + titles(last) == [f"task {n}" for n in range(7)]
    beyond = await task_page(client, user, offset=50)
    assert beyond == {"items": [], "total": 7}
    # Past the end of a filtered list, the total is still that filter's.
    await client.patch(user.url(f"/tasks/{first['items'][0]['id']}/complete"), headers=user.headers)
    assert await task_page(client, user, status="pending", offset=6) == {"items": [], "total": 6}
    assert await task_page(client, user, status="completed", offset=1) == {"items": [], "total": 1}
    assert await task_page(client, user, q="no such task", offset=3) == {"items": [], "total": 0}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "title", "Field required"),
        ({"title": "   "}, "title", "String should have at least 1 character"),
        ({"title": "x" * 201}, "title", "String should have at most 200 characters"),
        ({"title": "ok", "description": "d" * 2001}, "description", "at most 2000 characters"),
        (
            {"title": "ok", "priority": "urgent"},
            "priority",
            "Input should be 'low', 'medium' or 'high'",
        ),
        ({"title": "ok", "recurrence": "yearly"}, "recurrence", "Input should be 'none'"),
        ({"title": "ok", "due_at": "next tuesday"}, "due_at", "Input should be a valid datetime"),
        ({"title": "ok", "tags": ["x" * 40]}, "tags", "longer than 32 characters"),
        ({"title": "ok", "tags": "home"}, "tags", "Input should be a valid list"),
    ],
)
async def test_create_validation(
    client: httpx.AsyncClient, user: User, body: dict, field: str, message: str
) -> None:
    response = await client.post(user.url("/tasks"), json=body, headers=user.headers)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["field"] == field and message in e["msg"] for e in errors), errors
    assert all("input" not in e for e in errors)  # the submitted data is not echoed back
    assert (await task_page(client, user))["total"] == 0  # nothing half-written


async def test_a_body_that_is_not_json_names_the_body(
    client: httpx.AsyncClient, user: User
) -> None:
    response = await client.post(
        user.url("/tasks"),
        content=b'{"title": "milk",}',
        headers={**user.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == "body"
    assert error["msg"].startswith("the body is not valid JSON: ")
    assert "(at character 17)" in error["msg"]
    assert (await task_page(client, user))["total"] == 0


async def test_update_validation(client: httpx.AsyncClient, user: User) -> None:
    task = await create_task(client, user, title="keep me")
    response = await client.put(
        user.url(f"/tasks/{task['id']}"),
        json={"title": None, "priority": "x"},
        headers=user.headers,
    )
    assert response.status_code == 422
    fields = {e["field"]: e["msg"] for e in response.json()["detail"]}
    assert fields["title"] == "may not be null"
    assert "priority" in fields
    unchanged = await client.get(user.url(f"/tasks/{task['id']}"), headers=user.headers)
    assert unchanged.json()["title"] == "keep me"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 10**20}, "offset"),
        ({"status": "done"}, "status"),
        ({"sort": "colour"}, "sort"),
        ({"order": "up"}, "order"),
        ({"due_before": "soon"}, "due_before"),
    ],
)
async def test_list_query_validation(
    client: httpx.AsyncClient, user: User, params: dict, field: str
) -> None:
    response = await client.get(user.url("/tasks"), params=params, headers=user.headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == [field]


async def test_completing_recurring_task_creates_next_occurrence(
    client: httpx.AsyncClient, user: User
) -> None:
    due = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    task = await create_task(
        client,
        user,
        title="Water plants",
        recurrence="weekly",
        tags=["home"],
        priority="low",
        due_at=due.isoformat(),
    )
    url = user.url(f"/tasks/{task['id']}/complete")
    assert (await client.patch(url, headers=user.headers)).json()["completed"] is True

    pending = (await task_page(client, user, status="pending"))["items"]
    assert len(pending) == 1
    nxt = pending[0]
    assert nxt["id"] != task["id"]
    assert (nxt["title"], nxt["recurrence"], nxt["tags"], nxt["priority"]) == (
        "Water plants",
        "weekly",
        ["home"],
        "low",
    )
    assert datetime.fromisoformat(nxt["due_at"]) == due + timedelta(days=7)

    # Reopening and completing again does not create a second copy.
    await client.patch(url, headers=user.headers)
    await client.patch(url, headers=user.headers)
    assert (await task_page(client, user))["total"] == 2


async def test_completion_via_put_and_monthly_clamping(
    client: httpx.AsyncClient, user: User
) -> None:
    task = await create_task(
        client, user, title="Pay rent", recurrence="monthly", due_at="2030-01-31T10:00:00Z"
    )
    response = await client.put(
        user.url(f"/tasks/{task['id']}"), json={"completed": True}, headers=user.headers
    )
    assert response.json()["completed"] is True
    pending = (await task_page(client, user, status="pending"))["items"]
    assert [t["due_at"] for t in pending] == ["2030-02-28T10:00:00Z"]


async def test_other_users_tasks_are_not_found(
    client: httpx.AsyncClient, user: User, other_user: User
) -> None:
    task = await create_task(client, user, title="private")
    path = f"/tasks/{task['id']}"
    h = other_user.headers
    assert (await client.get(other_user.url(path), headers=h)).status_code == 404
    assert (
        await client.put(other_user.url(path), json={"title": "x"}, headers=h)
    ).status_code == 404
    assert (await client.patch(other_user.url(path + "/complete"), headers=h)).status_code == 404
    assert (await client.delete(other_user.url(path), headers=h)).status_code == 404
    assert (await task_page(client, other_user))["total"] == 0
    still = await client.get(user.url(path), headers=user.headers)
    assert still.json() == task


async def test_path_user_must_match_token(
    client: httpx.AsyncClient, user: User, other_user: User
) -> None:
    await create_task(client, user, title="mine")
    response = await client.get(user.url("/tasks"), headers=other_user.headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "user_id in the path does not match the signed-in user"}
    write = await client.post(
        user.url("/tasks"), json={"title": "planted"}, headers=other_user.headers
    )
    assert write.status_code == 403
    assert titles(await task_page(client, user)) == ["mine"]


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/tasks/99999999999", "task_id"),
        ("DELETE", "/tasks/0", "task_id"),
        ("PATCH", "/tasks/abc/complete", "task_id"),
        ("GET", "/tasks?tag=%23", "tag"),
        ("GET", f"/tasks?tag={'x' * 40}", "tag"),
        ("GET", "/conversations/99999999999/messages", "conversation_id"),
    ],
)
async def test_impossible_ids_and_tags_are_422(
    client: httpx.AsyncClient, user: User, method: str, path: str, field: str
) -> None:
    response = await client.request(method, user.url(path), headers=user.headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == [field]
