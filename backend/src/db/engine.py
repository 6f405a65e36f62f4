"""The async engine and sessions; one engine per app instance, created in its lifespan."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, exc, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from src.core.settings import DatabaseConnection


def create_engine(db: DatabaseConnection) -> AsyncEngine:
    if db.is_sqlite:
        path = make_url(db.url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(db.url, connect_args={"timeout": 15})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(
        db.url,
        connect_args=db.connect_args,
        # Connections are kept, never opened and closed per request: an overflow connection
        # would be closed as soon as it is returned, so under load every request past the
        # pool size would pay a new connection (and its authentication) on top of its queries.
        pool_size=POOL_SIZE,
        max_overflow=0,
        pool_timeout=10,
        pool_recycle=1800,
    )
    event.listen(engine.sync_engine, "checkout", _discard_closed_connection)
    return engine


# Connections per process: as many as a busy worker keeps in use (PostgreSQL allows 100 by
# default, which leaves room for a few replicas of two workers each).
POOL_SIZE = 15


def _discard_closed_connection(dbapi_connection, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
    """A connection the server closed (a restart, an idle timeout) is replaced before use.

    asyncpg notices the closed socket on its own, so this costs no round trip, unlike
    `pool_pre_ping`, which would add three to every request. A connection that dies silently
    (a network partition) fails its request with a 503; the pool is then invalidated and the
    next request reconnects.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("connection was closed by the server")


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
