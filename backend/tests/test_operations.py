"""Operations: health and readiness, surviving a database outage, CORS, logs without secrets."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from urllib.parse import urlsplit, urlunsplit

import httpx
from agents.testing import assistant_message
from fastapi import FastAPI

from src.core.logging import JsonFormatter
from tests.conftest import User, make_settings, running_app, script
from tests.support.auth import IdentityProvider
from tests.support.database import create_database, drop_database, migrate
from tests.support.mcp_in_process import in_process_mcp_server
from tests.support.proxy import TcpProxy


async def test_health_needs_no_database(database_url: str, idp: IdentityProvider) -> None:
    settings = make_settings("postgresql://nobody@127.0.0.1:9/none", idp)
    async with running_app(settings) as (_, client):
        health = await client.get("/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        ready = await client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["database"] == "unreachable"
    assert ready.json()["detail"].startswith("database unreachable")


async def test_ready_when_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "migrations": "at head"}


async def test_not_ready_until_migrated(idp: IdentityProvider) -> None:
    url = await asyncio.to_thread(create_database)
    try:
        async with running_app(make_settings(url, idp)) as (_, client):
            before = await client.get("/ready")
            assert before.status_code == 503
            assert before.json()["migrations"] == "not applied"
            assert "run `alembic upgrade head`" in before.json()["detail"]
            await asyncio.to_thread(migrate, url)
            after = await client.get("/ready")  # same process: no restart needed
            assert after.status_code == 200
    finally:
        await asyncio.to_thread(drop_database, url)


async def test_database_outage_is_a_503_and_the_service_recovers(
    database_url: str, idp: IdentityProvider, user: User
) -> None:
    parts = urlsplit(database_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    via_proxy = urlunsplit(
        (parts.scheme, f"{parts.username}@127.0.0.1:{proxy.port}", parts.path, "", "")
    )
    async with running_app(make_settings(via_proxy, idp)) as (app, client):
        created = await client.post(
            user.url("/tasks"), json={"title": "survive"}, headers=user.headers
        )
        assert created.status_code == 201

        await proxy.cut()
        during = await client.get(user.url("/tasks"), headers=user.headers)
        assert during.status_code == 503
        assert during.json() == {"detail": "database unavailable, try again shortly"}
        write = await client.post(user.url("/tasks"), json={"title": "lost?"}, headers=user.headers)
        assert write.status_code == 503
        # A tool call fails with a generic message: no connection details leak to the model.
        async with in_process_mcp_server(app, bearer_token=user.token) as mcp:
            tool = await mcp.call_tool("add_task", {"title": "lost?"})
        text = "".join(part.text for part in tool.content if part.type == "text")
        assert tool.is_error and "add_task" in text
        assert str(proxy.port) not in text and "127.0.0.1" not in text
        ready = await client.get("/ready")
        assert ready.status_code == 503 and ready.json()["database"] == "unreachable"

        await proxy.start()  # the database is back; the app was never restarted
        after = await client.get(user.url("/tasks"), headers=user.headers)
        assert after.status_code == 200
        assert [t["title"] for t in after.json()["items"]] == ["survive"]
        assert (await client.get("/ready")).status_code == 200
    await proxy.cut()


async def test_cors_allows_only_configured_origins(
    database_url: str, idp: IdentityProvider
) -> None:
    settings = make_settings(
        database_url, idp, cors_origins="https://app.example, http://localhost:3000"
    )
    async with running_app(settings) as (_, client):
        preflight = {
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type",
        }
        allowed = await client.options(
            "/api/u/tasks", headers={"origin": "https://app.example", **preflight}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        denied = await client.options(
            "/api/u/tasks", headers={"origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in denied.headers


async def test_logs_are_json_with_request_ids_and_no_secrets(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        script(app, [assistant_message("Your plan is safe with me.")])
        response = await client.post(
            user.url("/chat"),
            json={"message": "my secret plan: surprise party"},
            headers={**user.headers, "x-request-id": "req-test-42"},
        )
        await client.post(user.url("/tasks"), json={"title": "hidden title"}, headers=user.headers)
        await client.get("/health")  # probes succeed quietly
    finally:
        logging.getLogger().removeHandler(handler)
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-test-42"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "todo.access"]
    assert any(
        line["request_id"] == "req-test-42"
        and line["path"] == "/api/{user_id}/chat"
        and line["status"] == 200
        and line["method"] == "POST"
        for line in access
    )
    assert not any(line["path"] == "/health" for line in access)
    output = stream.getvalue()
    for secret in (user.token, "surprise party", "Your plan is safe", "hidden title", user.id):
        assert secret not in output
