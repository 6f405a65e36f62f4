"""Alembic environment: async engine from DATABASE_URL; safe when many processes run it at once.

Every replica's init container runs `alembic upgrade head`. A lock-free look at the current
revision lets the common case (already at head) finish without waiting on anyone; otherwise a
session-level PostgreSQL advisory lock, held on its own connection, serialises the upgrades and
the ones that waited find the work done.
"""

from __future__ import annotations

import asyncio
import logging
from logging.config import fileConfig

from alembic import context
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, pool, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import src.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from src.core.settings import database_connection, load_settings_or_exit

# Any constant works as long as every process uses the same one ("todo" in ASCII).
MIGRATION_LOCK_KEY = 0x746F646F

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")

# Tests pass the URL in the Config; processes read it from the environment like the app does.
db = (
    database_connection(config.attributes["database_url"])
    if "database_url" in config.attributes
    else load_settings_or_exit().db
)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


HEADS = set(ScriptDirectory.from_config(config).get_heads())


def _is_at_head(connection: Connection) -> bool:
    return set(MigrationContext.configure(connection).get_current_heads()) == HEADS


def _target_is_head() -> bool:
    try:
        target = context.get_revision_argument()  # already resolved: "head" arrives as "0001"
    except KeyError:
        return False  # a command without a destination (`current`, `stamp`, …)
    targets = set(target) if isinstance(target, tuple) else {target}
    return targets == HEADS or targets <= {"head", "heads"}


async def run_async() -> None:
    if db.is_sqlite:
        # Make sure the embedded database's directory exists (the engine helper does it).
        from src.db.engine import create_engine

        await create_engine(db).dispose()
    engine = create_async_engine(db.url, connect_args=db.connect_args, poolclass=pool.NullPool)
    try:
        if _target_is_head():
            async with engine.connect() as connection:
                if await connection.run_sync(_is_at_head):
                    log.info("Database already at head; nothing to do")
                    return
        if db.is_sqlite:
            async with engine.begin() as connection:
                await connection.run_sync(_run)
            return
        async with engine.connect() as lock_connection:
            lock_connection = await lock_connection.execution_options(isolation_level="AUTOCOMMIT")
            log.info("Waiting for the migration lock")
            await lock_connection.execute(
                text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
            try:
                async with engine.begin() as connection:
                    await connection.run_sync(_run)
            finally:
                await lock_connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
    finally:
        await engine.dispose()


def run_offline() -> None:
    context.configure(url=db.url, target_metadata=SQLModel.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_async())
