"""The task list as a user's client reads it, for tests that check what a turn left behind."""

from typing import Any

import httpx

from tests.conftest import User


async def list_tasks(client: httpx.AsyncClient, user: User, **params: str) -> list[dict[str, Any]]:
    response = await client.get(user.url("/tasks"), params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]
