"""Alembic: safe when many processes upgrade at once, and the SQLite embedded default works."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import make_settings, new_user, running_app
from tests.support.auth import IdentityProvider
from tests.support.database import alembic_processes, create_database, drop_database, migrate

PROCESSES = 4


@pytest.fixture
def empty_database() -> Iterator[str]:
    url = create_database()
    yield url
    drop_database(url)


async def test_concurrent_upgrades_on_an_empty_database(
    empty_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    results = await asyncio.to_thread(
        alembic_processes, "upgrade", "head", database_url=empty_database, count=PROCESSES
    )
    for code, output in results:
        assert code == 0, output
    # All started at once and found the schema missing; exactly one ran the migration, the
    # others waited for the lock and then had nothing left to do.
    ran = [output for _, output in results if "Running upgrade  -> 0001" in output]
    assert len(ran) == 1, [output for _, output in results]

    connection = await asyncpg.connect(empty_database)
    try:
        versions = await connection.fetch("SELECT version_num FROM alembic_version")
        tables = {
            r["tablename"]
            for r in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
    finally:
        await connection.close()
    assert [v["version_num"] for v in versions] == ["0002"]
    assert {"task", "task_counter", "conversation", "message", "alembic_version"} <= tables

    # A later run (the next replica) sees the schema at head and returns without the lock.
    with caplog.at_level(logging.INFO, logger="alembic.env"):
        await asyncio.to_thread(migrate, empty_database)
    messages = [r.getMessage() for r in caplog.records if r.name == "alembic.env"]
    assert messages == ["Database already at head; nothing to do"]


async def test_sqlite_embedded_default(tmp_path: Path, idp: IdentityProvider) -> None:
    url = f"sqlite:///{tmp_path}/nested/todo.db"
    await asyncio.to_thread(migrate, url)  # creates the missing directory too
    assert (tmp_path / "nested" / "todo.db").exists()

    user = new_user(idp)
    async with running_app(make_settings(url, idp)) as (_, client):
        assert (await client.get("/ready")).status_code == 200
        for title, tags, due in [
            ("Buy milk", ["home"], "2030-01-02T10:00:00+02:00"),
            ("Report", ["work"], None),
            ("Bake", ["home"], "2030-01-01T00:00:00Z"),
        ]:
            created = await client.post(
                user.url("/tasks"),
                headers=user.headers,
                json={"title": title, "tags": tags, "due_at": due},
            )
            assert created.status_code == 201, created.text
        page = (
            await client.get(
                user.url("/tasks"), params={"tag": "home", "sort": "due"}, headers=user.headers
            )
        ).json()
        assert [t["title"] for t in page["items"]] == ["Bake", "Buy milk"]
        assert page["items"][1]["due_at"] == "2030-01-02T08:00:00Z"  # stored and read as UTC
        everything = (
            await client.get(
                user.url("/tasks"), params={"sort": "due", "order": "desc"}, headers=user.headers
            )
        ).json()
        assert [t["title"] for t in everything["items"]] == ["Buy milk", "Bake", "Report"]


def _revision(directory: Path, revision: str, down: str | tuple[str, ...] | None) -> None:
    (directory / f"{revision}_step.py").write_text(
        f'"""Step {revision}."""\n\nrevision: str = {revision!r}\n'
        f"down_revision = {down!r}\n\n\ndef upgrade() -> None:\n    pass\n"
    )


def test_ready_expects_the_heads_alembic_reports(tmp_path: Path) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from src.core.settings import BACKEND_DIR
    from src.db.migrations import expected_heads

    alembic_heads = ScriptDirectory.from_config(Config(str(BACKEND_DIR / "alembic.ini")))
    assert expected_heads() == frozenset(alembic_heads.get_heads())

    # Branches and merges: heads are the revisions nothing builds on.
    _revision(tmp_path, "a1", None)
    _revision(tmp_path, "b1", "a1")
    _revision(tmp_path, "b2", "a1")
    assert expected_heads(tmp_path) == {"b1", "b2"}
    _revision(tmp_path, "c1", ("b1", "b2"))
    (tmp_path / "__init__.py").write_text("")
    assert expected_heads.__wrapped__(tmp_path) == {"c1"}
