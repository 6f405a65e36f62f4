"""The async engine and sessions; one engine per app instance, created in its lifespan."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from src.core.settings import DATABASE_POOL_SIZE, DATABASE_TIMEOUT, DatabaseConnection
from src.db.pool import FairAsyncPool

# The client gives up this much after the server's own statement_timeout: a slow statement is
# cancelled cleanly by the server, and only a server that stopped answering hits the client's.
_CLIENT_GRACE_SECONDS = 1.0


def create_engine(
    db: DatabaseConnection,
    *,
    timeout: float = DATABASE_TIMEOUT,
    pool_size: int = DATABASE_POOL_SIZE,
) -> AsyncEngine:
    if db.is_sqlite:
        path = make_url(db.url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(db.url, connect_args={"timeout": 15}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    milliseconds = str(int(timeout * 1000))
    engine = create_async_engine(
        db.url,
        connect_args={
            **db.connect_args,
            "timeout": min(db.connect_args.get("timeout", timeout), timeout),
            "command_timeout": timeout + _CLIENT_GRACE_SECONDS,
            "server_settings": {
                "statement_timeout": milliseconds,
                "lock_timeout": milliseconds,
                # A transaction left open by a request that died is rolled back by the server.
                "idle_in_transaction_session_timeout": str(int(timeout * 4000)),
            },
        },
        # Requests waiting for a connection get one in the order they asked (src/db/pool.py).
        poolclass=FairAsyncPool,
        # Connections are kept, never opened and closed per request: an overflow connection
        # would be closed as soon as it is returned, so under load every request past the
        # pool size would pay a new connection (and its authentication) on top of its queries.
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=timeout,
        pool_recycle=1800,
        # A statement's values are user data: its errors must not quote them.
        hide_parameters=True,
    )
    event.listen(engine.sync_engine, "connect", _tcp_keepalive)
    event.listen(engine.sync_engine, "checkout", _discard_closed_connection)
    event.listen(engine.sync_engine, "handle_error", _timeout_ends_the_connection)
    return engine


# A pooled connection to a server that vanished without closing it (a partition, a node that
# died) is found dead by the kernel after 30 s of silence plus 3 unanswered probes 5 s apart,
# instead of the system's two hours; unacknowledged writes give up after as long.
_KEEPALIVE = {"TCP_KEEPIDLE": 30, "TCP_KEEPINTVL": 5, "TCP_KEEPCNT": 3, "TCP_USER_TIMEOUT": 45_000}


def _tcp_keepalive(dbapi_connection: Any, _record: Any) -> None:
    transport = dbapi_connection.driver_connection._transport  # asyncpg's, set once connected
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # a Unix socket has no peer to lose
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in _KEEPALIVE.items():
        if hasattr(socket, name):  # Linux has them all; macOS lacks some
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def _discard_closed_connection(dbapi_connection, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
    """A connection the server closed (a restart, an idle timeout) is replaced before use.

    asyncpg notices the closed socket on its own, so this costs no round trip, unlike
    `pool_pre_ping`, which would add three to every request. A connection that dies silently
    (a network partition) fails its request with a 503; the pool is then invalidated and the
    next request reconnects.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("connection was closed by the server")


def _timeout_ends_the_connection(context: ExceptionContext) -> None:
    """A statement the server never answered leaves its connection in an unknown state: it is
    closed at once (no ROLLBACK that would wait on the same silent server) and the pool's
    other connections, opened to the same server, are replaced on their next use."""
    if not isinstance(context.original_exception, TimeoutError):
        return
    context.is_disconnect = True
    pooled = context.connection.connection if context.connection is not None else None
    driver = getattr(pooled, "driver_connection", None)
    if driver is not None:
        # SQLAlchemy would first try a polite close, waiting 2 s more on the silent server.
        driver.terminate()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
