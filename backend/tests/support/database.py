"""Throwaway databases on the PostgreSQL server named by TEST_DATABASE_URL (a superuser URL)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import tempfile
import traceback
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from alembic import command
from alembic.config import Config
from alembic.config import main as alembic_cli

from src.core.settings import get_settings

BACKEND_DIR = Path(__file__).resolve().parents[2]


def server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.exit(
            "TEST_DATABASE_URL is not set. Run the suite with `cargo xtask test` (it starts a "
            "throwaway PostgreSQL), or set it to a superuser URL such as "
            "postgresql://postgres@127.0.0.1:5432/postgres",
            returncode=4,
        )
    return url


def url_for(database: str) -> str:
    parts = urlsplit(server_url())
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def create_database() -> str:
    """Creates an empty database with a unique name; returns its URL."""
    name = f"todo_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return url_for(name)


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(server_url()))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _asyncpg_dsn(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


def alembic_processes(*args: str, database_url: str, count: int) -> list[tuple[int, str]]:
    """Runs the `alembic …` command line in `count` processes released at the same instant, the
    way replicas' init containers start; returns each one's (exit code, output).

    The processes are forked from this already-initialised interpreter, so they start in
    milliseconds (a fresh interpreter spends seconds importing SQLAlchemy) and really race.
    Call from a thread without a running event loop.
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(count)
    outputs = [tempfile.TemporaryFile() for _ in range(count)]
    processes = [
        context.Process(target=_alembic_main, args=(args, database_url, output.fileno(), barrier))
        for output in outputs
    ]
    for process in processes:
        process.start()
    results = []
    for process, output in zip(processes, outputs, strict=True):
        process.join(timeout=180)
        output.seek(0)
        results.append((process.exitcode, output.read().decode(errors="replace")))
        output.close()
    return results


def _alembic_main(args: tuple[str, ...], database_url: str, output_fd: int, barrier: Any) -> None:
    # The child's output goes to its own file (pytest's capture objects are not fd-backed).
    sys.stdout = sys.stderr = os.fdopen(os.dup(output_fd), "w", buffering=1)
    os.chdir(BACKEND_DIR)
    os.environ["DATABASE_URL"] = database_url
    get_settings.cache_clear()  # read the environment afresh, as a new process would
    barrier.wait()
    code = 0
    try:
        alembic_cli(argv=list(args))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stderr.flush()
    os._exit(code)


def migrate(database_url: str, revision: str = "head") -> None:
    """`alembic upgrade <revision>` in this process (the multi-process case has its own test)."""
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    command.upgrade(config, revision)
