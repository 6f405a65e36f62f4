"""The OpenAPI schema says what the server does, rule by rule: what a client generated from it
may send is accepted, what it may not is refused, and every error a route answers is listed
for that route. (tests/test_openapi_conformance.py tests the same at scale.)"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import User
from tests.support.tasks_api import create_task

TAGS = [
    "home",
    "#Home",
    "a" * 32,
    "#" + "a" * 32,
    "a" * 33,
    "two words",
    "a,b",
    "##home",
    "",
    "#",
    "tab\there",
]


@pytest.fixture(scope="module")
async def schema(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operation(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return schema["paths"][path][method]


def query_parameter(schema: dict[str, Any], name: str) -> dict[str, Any]:
    parameters = operation(schema, "get", "/api/{user_id}/tasks")["parameters"]
    found = next(p for p in parameters if p["name"] == name)["schema"]
    # The rules may sit beside the `anyOf` (they apply to the string) or in its string branch.
    return {**found, **next(s for s in found["anyOf"] if s.get("type") == "string")}


def allows(rule: dict[str, Any], value: str) -> bool:
    pattern = rule.get("pattern")
    return rule.get("minLength", 0) <= len(value) <= rule.get("maxLength", len(value)) and (
        pattern is None or re.search(pattern, value) is not None
    )


@pytest.mark.parametrize("tag", TAGS)
async def test_the_tag_filter_takes_what_the_schema_allows(
    client: httpx.AsyncClient, user: User, schema: dict[str, Any], tag: str
) -> None:
    listed = await client.get(user.url("/tasks"), params={"tag": tag}, headers=user.headers)
    assert listed.status_code in (200, 422), listed.text
    assert (listed.status_code == 200) == allows(query_parameter(schema, "tag"), tag)


@pytest.mark.parametrize("tag", TAGS)
async def test_a_task_takes_the_tags_the_schema_allows(
    client: httpx.AsyncClient, user: User, schema: dict[str, Any], tag: str
) -> None:
    rule = schema["components"]["schemas"]["TaskCreate"]["properties"]["tags"]["items"]
    body = {"title": "tagged", "tags": [tag]}
    created = await client.post(user.url("/tasks"), json=body, headers=user.headers)
    assert created.status_code in (201, 422), created.text
    assert (created.status_code == 201) == allows(rule, tag)
    if created.status_code == 201:
        # The filter finds the task by the tag as it was sent.
        listed = await client.get(user.url("/tasks"), params={"tag": tag}, headers=user.headers)
        assert created.json()["id"] in [task["id"] for task in listed.json()["items"]]


def nullable(rule: dict[str, Any]) -> bool:
    return any(option.get("type") == "null" for option in rule.get("anyOf", [rule]))


@pytest.mark.parametrize(
    "field", ["title", "description", "priority", "tags", "due_at", "recurrence", "completed"]
)
async def test_put_takes_null_exactly_where_the_schema_allows_it(
    client: httpx.AsyncClient, user: User, schema: dict[str, Any], field: str
) -> None:
    task = await create_task(
        client, user, title="kept", description="d", due_at="2030-01-02T09:00:00Z"
    )
    changed = await client.put(
        user.url(f"/tasks/{task['id']}"), json={field: None}, headers=user.headers
    )
    rule = schema["components"]["schemas"]["TaskUpdate"]["properties"][field]
    assert changed.status_code == (200 if nullable(rule) else 422), changed.text
    assert nullable(rule) == (field in ("description", "due_at"))


def documented(schema: dict[str, Any], method: str, path: str) -> set[int]:
    return {int(code) for code in operation(schema, method, path)["responses"]}


async def test_every_error_a_route_answers_is_in_its_schema(
    client: httpx.AsyncClient, user: User, other_user: User, schema: dict[str, Any]
) -> None:
    task = await create_task(client, user, title="mine")
    one = "/api/{user_id}/tasks/{task_id}"
    answers = [
        ("get", one, await client.get(user.url(f"/tasks/{task['id']}"))),
        ("get", one, await client.get(
            user.url(f"/tasks/{task['id']}"), headers=other_user.headers
        )),
        ("get", one, await client.get(user.url("/tasks/2147483647"), headers=user.headers)),
        ("get", one, await client.get(user.url("/tasks/0"), headers=user.headers)),
        ("put", one, await client.put(
            user.url(f"/tasks/{task['id']}"), content=b'{"title": "\xff"}',
            headers={**user.headers, "content-type": "application/json"},
        )),
        ("post", "/api/{user_id}/tasks", await client.post(
            user.url("/tasks"), content=b"x" * (1024 * 1024 + 1),
            headers={**user.headers, "content-type": "application/json"},
        )),
        ("get", "/api/{user_id}/tasks", await client.get(
            user.url("/tasks"), params={"due_before": "0.5"}, headers=user.headers
        )),
        ("post", "/api/{user_id}/chat", await client.post(
            user.url("/chat"), json={"conversation_id": 2147483647, "message": "hi"},
            headers=user.headers,
        )),
        ("get", "/api/{user_id}/conversations/{conversation_id}/messages", await client.get(
            user.url("/conversations/2147483647/messages"), headers=user.headers
        )),
    ]  # fmt: skip
    assert [response.status_code for *_, response in answers] == [
        401, 403, 404, 422, 400, 413, 422, 404, 404
    ]  # fmt: skip
    for method, path, response in answers:
        assert response.status_code in documented(schema, method, path), (method, path)
        assert "detail" in response.json()


async def test_every_api_route_lists_the_errors_every_request_may_get(
    schema: dict[str, Any],
) -> None:
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            if path.startswith("/api/"):
                assert {401, 403, 503} <= documented(schema, method, path), (method, path)
            if "requestBody" in op:
                assert 413 in documented(schema, method, path), (method, path)
            if "{task_id}" in path or "{conversation_id}" in path:
                assert 404 in documented(schema, method, path), (method, path)


async def test_allow_names_every_method_the_path_serves_and_no_other(
    client: httpx.AsyncClient, user: User, schema: dict[str, Any]
) -> None:
    for template, operations in schema["paths"].items():
        path = template.format(user_id=user.id, task_id=1, conversation_id=1)
        refused = await client.request("OPTIONS", path, headers=user.headers)
        assert refused.status_code == 405, path
        listed = refused.headers["allow"].split(", ")
        assert listed == sorted(method.upper() for method in operations), path
        for method in listed:
            served = await client.request(method, path, headers=user.headers, json={})
            assert served.status_code != 405, (method, path)
