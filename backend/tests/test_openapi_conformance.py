"""Schemathesis against the app under uvicorn and PostgreSQL, as a client reads its OpenAPI
schema: requests generated from it (valid ones and deliberately invalid ones), every check
(tests/schemathesis.toml says where one is left out, and why), a real signed token."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from src.main import create_app
from tests.conftest import User, make_settings
from tests.support.auth import IdentityProvider
from tests.support.uvicorn_server import serving

CONFIG = Path(__file__).with_name("schemathesis.toml")
# Generated cases per operation and phase; the whole run sends REQUESTS_MIN requests or more.
MAX_EXAMPLES = 50
REQUESTS_MIN = 1000


async def test_the_server_does_what_its_openapi_schema_says(
    database_url: str, idp: IdentityProvider, user: User, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    token = idp.token(user.id, expires_in=3600)  # outlives the run on a slow machine
    async with serving(create_app(make_settings(database_url, idp))) as port:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file", str(CONFIG),
            "run", f"http://127.0.0.1:{port}/openapi.json",
            "--max-examples", str(MAX_EXAMPLES), "--seed", "1", "--request-timeout", "30",
            "--header", f"Authorization: Bearer {token}",
            "--report", "json", "--report-json-path", str(report),
            # Its cache replays earlier runs' failures: each run starts from none.
            cwd=tmp_path,
            env={**os.environ, "SCHEMATHESIS_USER_ID": user.id},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-8000:]
    cases = json.loads(report.read_text())["test_cases"]
    assert cases["with_failures"] == cases["errored"] == 0, text[-8000:]
    assert cases["generated"] >= REQUESTS_MIN, cases
