"""Faults of a real PostgreSQL under load: frozen, crashed, restarted, a connection killed
mid-request.

Each answer is a 503 with Retry-After within the configured deadline (never a hang or a 500),
nothing is half-written, and the same app instance serves again once the database is back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import User, make_settings, running_app
from tests.support.auth import IdentityProvider
from tests.support.database import _asyncpg_dsn, migrate
from tests.support.postgres_server import PostgresServer, own_server

# Short, so a frozen database costs the suite seconds; the default is in src/core/settings.py.
TIMEOUT = 1.0
# The longest a request may wait: for a pooled connection (TIMEOUT), then for its statement
# (TIMEOUT + the client's 1 s grace). The margin is for a busy 2-core test machine.
DEADLINE = 2 * TIMEOUT + 1.0 + 2.0
UNAVAILABLE = {"detail": "database unavailable, try again shortly"}


@pytest.fixture
async def served(
    database: str, idp: IdentityProvider
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running_app(make_settings(database, idp, database_timeout=TIMEOUT)) as pair:
        yield pair


async def _timed(request: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


def _load(client: httpx.AsyncClient, user: User, count: int) -> list[Any]:
    """Reads and writes, as many users' browsers would send them at once."""
    requests = []
    for n in range(count):
        if n % 3 == 2:
            body = {"title": f"during {n}"}
            requests.append(client.post(user.url("/tasks"), json=body, headers=user.headers))
        else:
            requests.append(client.get(user.url("/tasks"), headers=user.headers))
    return requests


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == UNAVAILABLE
    assert int(response.headers["retry-after"]) > 0


async def _eventually(fetch: Callable[[], Awaitable[Any]], *, seconds: float = 5.0) -> Any:
    """The first truthy value `fetch` returns, polling for up to `seconds`."""
    for _ in range(int(seconds / 0.05)):
        if value := await fetch():
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing within {seconds} s")


async def _is_ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/ready")).status_code == 200


async def _titles(client: httpx.AsyncClient, user: User) -> list[str]:
    listed = await client.get(user.url("/tasks?limit=100"), headers=user.headers)
    assert listed.status_code == 200, listed.text
    return sorted(task["title"] for task in listed.json()["items"])


async def test_a_frozen_database_gets_503s_within_the_deadline_and_recovers(
    database: str, served: tuple[FastAPI, httpx.AsyncClient], user: User
) -> None:
    _, client = served
    created = await client.post(user.url("/tasks"), json={"title": "before"}, headers=user.headers)
    assert created.status_code == 201
    # Warm the pool: every connection is open when the server freezes.
    reads = (client.get(user.url("/tasks"), headers=user.headers) for _ in range(15))
    warm = await asyncio.gather(*reads)
    assert {r.status_code for r in warm} == {200}
    server = await PostgresServer.of(database)

    with server.frozen():
        async with asyncio.timeout(DEADLINE * 4):  # a hang fails the test instead of the suite
            first = await asyncio.gather(
                *(_timed(request) for request in _load(client, user, 24)),
                _timed(client.get("/ready")),
            )
            # Requests that arrive once the pool's connections have been given up on.
            second = await asyncio.gather(*(_timed(r) for r in _load(client, user, 6)))
    *answers, (ready, ready_seconds) = first
    for response, seconds in answers + second:
        _assert_unavailable(response)
        assert seconds < DEADLINE, f"answered after {seconds:.1f} s"
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
    assert ready_seconds < 3.0 + 1.0  # /ready's own deadline is 3 s

    # The server is back: the same app serves at once, and nothing was half-written.
    again = await asyncio.gather(*_load(client, user, 24))
    assert {r.status_code for r in again} == {200, 201}
    titles = await _titles(client, user)
    assert "before" in titles and all(t == "before" or t.startswith("during") for t in titles)
    assert (await client.get("/ready")).status_code == 200


async def test_a_database_crash_under_load_gets_503s_and_the_service_recovers(
    database: str, served: tuple[FastAPI, httpx.AsyncClient], user: User
) -> None:
    _, client = served
    server = await PostgresServer.of(database)
    kept = await client.post(user.url("/tasks"), json={"title": "kept"}, headers=user.headers)
    assert kept.status_code == 201
    admin = await asyncpg.connect(_asyncpg_dsn(database))
    # The test server commits asynchronously (synchronous_commit=off), and a crash loses what
    # its WAL writer had not written yet: the schema and "kept" are made durable first.
    await admin.execute("CHECKPOINT")
    # A backend that sleeps, so a connection is busy when the server goes down.
    sleeper = asyncio.ensure_future(admin.execute("SELECT pg_sleep(30)"))
    observer = await asyncpg.connect(_asyncpg_dsn(database))
    victim = await _eventually(
        lambda: observer.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'"
        )
    )

    load = [asyncio.ensure_future(_timed(r)) for r in _load(client, user, 20)]
    server.crash_backend(victim)
    during = [asyncio.ensure_future(_timed(r)) for r in _load(client, user, 20)]
    answers = await asyncio.gather(*load, *during)
    with pytest.raises((asyncpg.PostgresError, OSError, asyncpg.InterfaceError)):
        await sleeper
    for connection in (admin, observer):
        connection.terminate()  # both were ended by the crash
    for response, seconds in answers:
        assert response.status_code in (200, 201, 503), response.text
        if response.status_code == 503:
            _assert_unavailable(response)
        assert seconds < DEADLINE
    assert any(response.status_code == 503 for response, _ in answers)

    # Crash recovery, then the pool reconnects by itself.
    await _eventually(lambda: _is_ready(client), seconds=30)
    again = await asyncio.gather(*_load(client, user, 20))
    assert {r.status_code for r in again} == {200, 201}
    assert "kept" in await _titles(client, user)


async def test_a_database_restarted_under_load_gets_503s_and_the_service_recovers(
    database: str, idp: IdentityProvider, user: User
) -> None:
    async with own_server(database) as server:
        await asyncio.to_thread(migrate, server.url)
        settings = make_settings(server.url, idp, database_timeout=TIMEOUT)
        async with running_app(settings) as (_, client):
            kept = await client.post(
                user.url("/tasks"), json={"title": "kept"}, headers=user.headers
            )
            assert kept.status_code == 201
            # Requests in flight as the server shuts down (its clients are disconnected), then
            # requests while it is down (connections refused).
            load = [asyncio.ensure_future(_timed(r)) for r in _load(client, user, 20)]
            await server.stop()
            down = await asyncio.gather(*(_timed(r) for r in _load(client, user, 20)))
            answers = await asyncio.gather(*load)
            for response, seconds in answers:
                assert response.status_code in (200, 201, 503), response.text
                if response.status_code == 503:
                    _assert_unavailable(response)
                assert seconds < DEADLINE
            for response, seconds in down:
                _assert_unavailable(response)
                assert seconds < DEADLINE
            assert (await client.get("/ready")).status_code == 503

            # The same server is back, on the same port: the same app serves again.
            await server.start()
            await _eventually(lambda: _is_ready(client), seconds=10)
            again = await asyncio.gather(*_load(client, user, 20))
            assert {r.status_code for r in again} == {200, 201}
            titles = await _titles(client, user)
            assert "kept" in titles and all(t == "kept" or t.startswith("during") for t in titles)


async def test_a_connection_killed_mid_request_is_a_503_and_nothing_is_half_written(
    database: str, served: tuple[FastAPI, httpx.AsyncClient], user: User
) -> None:
    _, client = served
    body = {"title": "pay rent", "recurrence": "monthly", "due_at": "2030-01-31T09:00:00Z"}
    task = (await client.post(user.url("/tasks"), json=body, headers=user.headers)).json()
    admin = await asyncpg.connect(_asyncpg_dsn(database))
    try:
        # The test holds the task's row, so completing it waits mid-transaction.
        locker = admin.transaction()
        await locker.start()
        await admin.execute("SELECT 1 FROM task WHERE id = $1 FOR UPDATE", task["id"])
        completing = asyncio.ensure_future(
            client.patch(user.url(f"/tasks/{task['id']}/complete"), headers=user.headers)
        )
        waiting = await _eventually(
            lambda: admin.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
        )
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", waiting)
        _assert_unavailable(await completing)
        await locker.rollback()
    finally:
        await admin.close()

    after = await client.get(user.url("/tasks"), headers=user.headers)
    assert after.status_code == 200
    assert [(t["title"], t["completed"]) for t in after.json()["items"]] == [("pay rent", False)]
    done = await client.patch(user.url(f"/tasks/{task['id']}/complete"), headers=user.headers)
    assert done.status_code == 200 and done.json()["completed"] is True


async def test_a_statement_that_waits_too_long_is_a_503(
    database: str, served: tuple[FastAPI, httpx.AsyncClient], user: User
) -> None:
    _, client = served
    created = await client.post(user.url("/tasks"), json={"title": "held"}, headers=user.headers)
    task = created.json()
    admin = await asyncpg.connect(_asyncpg_dsn(database))
    try:
        async with admin.transaction(), asyncio.timeout(DEADLINE * 2):
            await admin.execute("SELECT 1 FROM task WHERE id = $1 FOR UPDATE", task["id"])
            rename = client.put(
                user.url(f"/tasks/{task['id']}"), json={"title": "x"}, headers=user.headers
            )
            response, seconds = await _timed(rename)
    finally:
        await admin.close()
    _assert_unavailable(response)
    assert seconds < DEADLINE
    assert await _titles(client, user) == ["held"]
