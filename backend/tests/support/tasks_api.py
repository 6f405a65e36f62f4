"""The task list as a user's client reads and fills it, for tests that set up tasks through the
API or check what a turn left behind."""

from typing import Any

import httpx

from tests.conftest import User


async def task_page(client: httpx.AsyncClient, user: User, **params: Any) -> dict[str, Any]:
    """One page of the user's list: {"items": [...], "total": n}."""
    response = await client.get(user.url("/tasks"), params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def list_tasks(client: httpx.AsyncClient, user: User, **params: Any) -> list[dict[str, Any]]:
    return (await task_page(client, user, **params))["items"]


async def create_task(client: httpx.AsyncClient, user: User, **fields: Any) -> dict[str, Any]:
    response = await client.post(user.url("/tasks"), json=fields, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()
