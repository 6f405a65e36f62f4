"""Start-up stays light: probes answer without loading the MCP SDK (about a second of CPU, paid
before a pod turns ready otherwise); /mcp builds the server on its first request."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import make_settings, running_app
from tests.support.auth import IdentityProvider
from tests.support.mcp_http import INITIALIZE, MCP_HEADERS

BACKEND = Path(__file__).resolve().parents[1]

# Run in a fresh interpreter: this test process has long imported the MCP SDK.
PROBE_THEN_MCP = f"""
import asyncio, json, os, sys
import httpx
from src.main import app

def mcp_loaded():
    return "mcp" in sys.modules

async def main():
    seen = {{}}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            seen["health"] = (await client.get("/health")).status_code
            seen["ready"] = (await client.get("/ready")).status_code
            seen["mcp_after_probes"] = mcp_loaded()
            headers = {{**{MCP_HEADERS!r}, "authorization": "Bearer " + os.environ["TOKEN"]}}
            answer = await client.post("/mcp", json={INITIALIZE!r}, headers=headers)
            seen["mcp_status"] = answer.status_code
            seen["mcp_after_request"] = mcp_loaded()
    print(json.dumps(seen))

asyncio.run(main())
"""


def test_probes_answer_without_loading_mcp(database_url: str, idp: IdentityProvider) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BETTER_AUTH_URL": idp.url,
        "ENVIRONMENT": "development",
        "TOKEN": idp.token("someone"),
    }
    for name in ("JWT_ISSUER", "JWT_AUDIENCE"):
        env.pop(name, None)
    run = subprocess.run(
        [sys.executable, "-c", PROBE_THEN_MCP],
        cwd=BACKEND,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen == {
        "health": 200,
        "ready": 200,
        "mcp_after_probes": False,
        "mcp_status": 200,
        "mcp_after_request": True,
    }


async def test_concurrent_first_mcp_requests_share_one_server(
    database_url: str, idp: IdentityProvider
) -> None:
    headers = {**MCP_HEADERS, "authorization": f"Bearer {idp.token('someone')}"}

    # Other apps of this test session may run theirs: count the ones this app starts.
    def session_managers() -> set[asyncio.Task[object]]:
        name = "MCP streamable HTTP session manager"
        return {t for t in asyncio.all_tasks() if t.get_name() == name}

    others = session_managers()
    async with running_app(make_settings(database_url, idp)) as (_, client):
        assert session_managers() == others  # nothing built before the first /mcp request
        answers: list[httpx.Response] = await asyncio.gather(
            *(client.post("/mcp/", json=INITIALIZE, headers=headers) for _ in range(5))
        )
        assert [a.status_code for a in answers] == [200] * 5
        assert {a.json()["result"]["serverInfo"]["name"] for a in answers} == {"todo"}
        (manager,) = session_managers() - others
    assert manager.done()  # stopped with the app
