"""The ceiling of the tasks API: a bare ASGI app that runs the backend's SQL for the benchmarked
requests through the same driver (asyncpg), served by the same uvicorn setup, with no framework
work — no routing library, no dependency injection, no validation models, no ORM, no token
verification. What the backend does on top of this is what its throughput is compared against.

    DATABASE_URL=postgresql://... uvicorn ceiling:app --app-dir bench
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import asyncpg

COLUMNS = (
    "title, description, priority, tags, due_at, recurrence, id, number, user_id, completed, "
    "recurs_from_id, created_at, updated_at"
)
# The statements SQLAlchemy emits for the backend's list (status=pending, sort=due, page of 20).
COUNT_PENDING = "SELECT count(*) FROM task WHERE task.user_id = $1 AND task.completed IS false"
PAGE_PENDING_BY_DUE = (
    f"SELECT {COLUMNS} FROM task WHERE task.user_id = $1 AND task.completed IS false "
    "ORDER BY task.due_at ASC NULLS LAST, task.id ASC LIMIT $2 OFFSET $3"
)
# The user's next task number, as the backend takes it: the counter row stays locked until the
# task's insert commits.
COUNT_UP = (
    "INSERT INTO task_counter (user_id, last_number) VALUES ($1, 1) ON CONFLICT (user_id) "
    "DO UPDATE SET last_number = task_counter.last_number + 1 RETURNING task_counter.last_number"
)
INSERT = (
    "INSERT INTO task (title, description, priority, tags, due_at, recurrence, user_id, "
    "completed, recurs_from_id, created_at, updated_at, number) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id"
)
LOCK = f"SELECT {COLUMNS} FROM task WHERE task.id = $1 AND task.user_id = $2 FOR UPDATE"
UPDATE = (
    "UPDATE task SET title=$1, priority=$2, updated_at=$3 WHERE task.id = $4 "
    f"RETURNING {COLUMNS}"
)
TOGGLE = (
    "UPDATE task SET completed=$1, updated_at=$2 WHERE task.id = $3 "
    f"RETURNING {COLUMNS}"
)

pool: asyncpg.Pool | None = None


def public(row: asyncpg.Record) -> dict[str, Any]:
    task = dict(row)
    task.pop("recurs_from_id")
    task["tags"] = json.loads(task["tags"])
    for key in ("due_at", "created_at", "updated_at"):
        if task[key] is not None:
            task[key] = task[key].isoformat()
    return task


async def list_tasks(user_id: str, _body: bytes) -> tuple[int, Any]:
    async with pool.acquire() as db:
        total = await db.fetchval(COUNT_PENDING, user_id)
        rows = await db.fetch(PAGE_PENDING_BY_DUE, user_id, 20, 0)
    return 200, {"items": [public(r) for r in rows], "total": total}


async def create_task(user_id: str, body: bytes) -> tuple[int, Any]:
    data = json.loads(body)
    now = datetime.now(UTC)
    values = (
        data["title"], data.get("description"), data.get("priority", "medium"),
        json.dumps(data.get("tags", [])), None, "none", user_id, False, None, now, now,
    )
    async with pool.acquire() as db, db.transaction():
        number = await db.fetchval(COUNT_UP, user_id)
        task_id = await db.fetchval(INSERT, *values, number)
    keys = ("title", "description", "priority", "tags", "due_at", "recurrence", "user_id",
            "completed", "recurs_from_id", "created_at", "updated_at")
    task = dict(zip(keys, values), id=task_id, number=number, tags=data.get("tags", []))
    task.pop("recurs_from_id")
    task["created_at"] = task["updated_at"] = now.isoformat()
    return 201, task


async def update_task(user_id: str, task_id: int, body: bytes) -> tuple[int, Any]:
    data = json.loads(body)
    async with pool.acquire() as db, db.transaction():
        task = await db.fetchrow(LOCK, task_id, user_id)
        if task is None:
            return 404, {"detail": f"task {task_id} not found"}
        row = await db.fetchrow(
            UPDATE, data.get("title", task["title"]), data.get("priority", task["priority"]),
            datetime.now(UTC), task_id,
        )
    return 200, public(row)


async def toggle_task(user_id: str, task_id: int, _body: bytes) -> tuple[int, Any]:
    async with pool.acquire() as db, db.transaction():
        task = await db.fetchrow(LOCK, task_id, user_id)
        if task is None:
            return 404, {"detail": f"task {task_id} not found"}
        row = await db.fetchrow(TOGGLE, not task["completed"], datetime.now(UTC), task_id)
    return 200, public(row)


async def route(method: str, path: str, body: bytes) -> tuple[int, Any]:
    parts = path.strip("/").split("/")
    # /api/{user_id}/tasks[/{id}[/complete]]
    if len(parts) >= 3 and parts[0] == "api" and parts[2] == "tasks":
        user_id = parts[1]
        if len(parts) == 3 and method == "GET":
            return await list_tasks(user_id, body)
        if len(parts) == 3 and method == "POST":
            return await create_task(user_id, body)
        if len(parts) == 4 and method == "PUT":
            return await update_task(user_id, int(parts[3]), body)
        if len(parts) == 5 and parts[4] == "complete" and method == "PATCH":
            return await toggle_task(user_id, int(parts[3]), body)
    if path in ("/health", "/ready") and method == "GET":
        if path == "/ready":
            async with pool.acquire() as db:
                await db.fetchval("SELECT 1")
        return 200, {"status": "ok"}
    return 404, {"detail": "Not Found"}


async def app(scope: dict, receive: Any, send: Any) -> None:
    global pool
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # The backend's engine allows 5 pooled + 10 overflow connections: 15 at most.
                pool = await asyncpg.create_pool(
                    os.environ["DATABASE_URL"], min_size=5, max_size=15
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    status, payload = await route(scope["method"], scope["path"], body)
    data = json.dumps(payload).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode())],
    })
    await send({"type": "http.response.body", "body": data})
