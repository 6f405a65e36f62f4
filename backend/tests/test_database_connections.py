"""Pooled database connections: one the server closed is replaced before a request uses it;
DATABASE_POOL_SIZE caps how many one process opens."""

from __future__ import annotations

import asyncio
import socket

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import User, make_settings, running_app
from tests.support.auth import IdentityProvider
from tests.support.database import _asyncpg_dsn


async def _other_connections(database_url: str, select: str) -> int:
    """`SELECT <select>` over the database's connections but the one asking: the app's."""
    admin = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        return await admin.fetchval(
            f"SELECT {select} FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()


async def _create_at_once(client: httpx.AsyncClient, user: User, count: int) -> None:
    created = await asyncio.gather(
        *(
            client.post(user.url("/tasks"), json={"title": f"t{n}"}, headers=user.headers)
            for n in range(count)
        )
    )
    assert [r.status_code for r in created] == [201] * count


async def test_connections_closed_by_the_server_fail_no_request(
    database: str, idp: IdentityProvider, user: User
) -> None:
    async with running_app(make_settings(database, idp)) as (_, client):
        # Several requests at once, so the pool holds more than one connection.
        await _create_at_once(client, user, 4)

        # What a database restart (or an idle-connection reaper) does to the pool.
        assert await _other_connections(database, "count(pg_terminate_backend(pid))") >= 1
        await asyncio.sleep(0.2)  # the closed sockets reach the event loop

        listed = await client.get(user.url("/tasks"), headers=user.headers)
        assert listed.status_code == 200 and listed.json()["total"] == 4
        again = await asyncio.gather(
            *(client.get(user.url("/tasks"), headers=user.headers) for _ in range(4)),
            client.post(user.url("/tasks"), json={"title": "t4"}, headers=user.headers),
        )
        assert [r.status_code for r in again] == [200] * 4 + [201]


async def test_pooled_connections_probe_a_silent_server(app: FastAPI) -> None:
    """TCP keepalives find a server that vanished (a partition) within a minute, so a dead
    pooled connection is replaced instead of holding requests until the system's 2 hours."""
    async with app.state.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        sock = raw.driver_connection._transport.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        idle = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)
        probes = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT)
        interval = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL)
    assert idle + probes * interval <= 60


async def test_database_pool_size_caps_what_one_process_opens_and_the_rest_wait_their_turn(
    database: str, idp: IdentityProvider, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DATABASE_POOL_SIZE, which the chart sets from the release's connection budget, is the
    most this process ever holds: 30 requests at once share 3 connections, and none fails."""
    monkeypatch.setenv("DATABASE_POOL_SIZE", "3")
    async with running_app(make_settings(database, idp)) as (_, client):
        await _create_at_once(client, user, 30)
        # The pool keeps what it opened: the server sees each connection it ever needed.
        assert await _other_connections(database, "count(*)") == 3
