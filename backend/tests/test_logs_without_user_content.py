"""A database error nobody foresaw is logged without the user's data: the error's class, the
statement's name and the request id, never the values the statement carried."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.conftest import User, make_settings, running_app
from tests.support.auth import IdentityProvider
from tests.support.database import _asyncpg_dsn

TITLE = "Ask Dr. Quimby about the biopsy results"
DESCRIPTION = "results due Thursday, call 555-0199"
TAG = "oncology"
# A CHECK constraint the app knows nothing about refuses this title: PostgreSQL's error then
# reads "Failing row contains (…every column's value…)", and the statement carries them all.
_PROBE = "log_probe_refuses_this_title"


@pytest.fixture
async def refused_title(database_url: str) -> AsyncIterator[None]:
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        await connection.execute(
            f"ALTER TABLE task ADD CONSTRAINT {_PROBE} CHECK (title <> '{TITLE}') NOT VALID"
        )
        yield
    finally:
        await connection.execute(f"ALTER TABLE task DROP CONSTRAINT IF EXISTS {_PROBE}")
        await connection.close()


async def test_a_database_error_logs_no_user_content(
    database_url: str,
    idp: IdentityProvider,
    user: User,
    refused_title: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Its own app, so its JSON log lines go to the stdout captured here, as they would in a pod.
    async with running_app(make_settings(database_url, idp)) as (_, client):
        response = await client.post(
            user.url("/tasks"),
            json={"title": TITLE, "description": DESCRIPTION, "tags": [TAG]},
            headers={**user.headers, "x-request-id": "req-db-error-7"},
        )
        listed = await client.get(user.url("/tasks"), headers=user.headers)
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}
    assert listed.json()["total"] == 0  # nothing half-written

    logged = capsys.readouterr().out
    error_lines = [line for line in logged.splitlines() if '"unhandled error"' in line]
    assert len(error_lines) == 1, logged
    error = error_lines[0]
    for content in (TITLE, "Quimby", DESCRIPTION, "555-0199", TAG, user.id):
        assert content not in logged, content
    assert '"request_id": "req-db-error-7"' in error
    assert "IntegrityError" in error and "CheckViolationError" in error
    assert '"statement": "INSERT task"' in error and '"sqlstate": "23514"' in error
