"""Throwaway databases on the PostgreSQL server named by TEST_DATABASE_URL (a superuser URL)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from alembic import command
from alembic.config import Config

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


def alembic(*args: str, database_url: str) -> subprocess.Popen[str]:
    """`alembic …` as its own process, the way init containers and developers run it."""
    return subprocess.Popen(
        [sys.executable, "-m", "alembic", *args],
        cwd=BACKEND_DIR,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def migrate(database_url: str) -> None:
    """`alembic upgrade head` in this process (the multi-process case has its own test)."""
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")
