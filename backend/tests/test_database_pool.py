"""The connection pool under contention: requests get connections in the order they asked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from src.core.settings import DATABASE_POOL_SIZE, database_connection
from src.db.engine import create_engine
from src.db.pool import FairAsyncPool


async def _use_connection(engine: AsyncEngine, name: str, served: list[str]) -> None:
    async with engine.connect() as connection:
        served.append(name)
        await connection.exec_driver_sql("SELECT 1")


async def test_a_request_waiting_for_a_connection_is_not_passed_by_a_later_one(
    database_url: str,
) -> None:
    engine = create_engine(database_connection(database_url))
    held = [await engine.connect() for _ in range(DATABASE_POOL_SIZE)]
    try:
        served: list[str] = []
        waiting = asyncio.create_task(_use_connection(engine, "waiting", served))
        await asyncio.sleep(0.05)  # it is queued for a connection
        # A request that arrived later is ready to run when a connection comes back: it must
        # queue behind the one that waited, not take the connection handed to it.
        later = asyncio.create_task(_use_connection(engine, "later", served))
        await held.pop().close()
        await asyncio.wait_for(asyncio.gather(waiting, later), timeout=10)
        assert served == ["waiting", "later"]
    finally:
        for connection in held:
            await connection.close()
        await engine.dispose()


@pytest.fixture
async def one_connection_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    db = database_connection(database_url)
    engine = create_async_engine(
        db.url,
        connect_args=db.connect_args,
        poolclass=FairAsyncPool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.2,
    )
    yield engine
    await engine.dispose()


async def test_a_request_that_waited_too_long_fails_and_leaves_the_pool_working(
    one_connection_engine: AsyncEngine,
) -> None:
    engine = one_connection_engine
    held = await engine.connect()
    with pytest.raises(exc.TimeoutError):
        await engine.connect()
    await held.close()
    served: list[str] = []
    await asyncio.wait_for(_use_connection(engine, "next", served), timeout=5)
    assert served == ["next"]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_request_cancelled_while_waiting_takes_no_connection_with_it(
    one_connection_engine: AsyncEngine,
) -> None:
    engine = one_connection_engine
    held = await engine.connect()
    served: list[str] = []
    gone = asyncio.create_task(_use_connection(engine, "gone", served))
    handed = asyncio.create_task(_use_connection(engine, "handed back", served))
    stays = asyncio.create_task(_use_connection(engine, "stays", served))
    await asyncio.sleep(0.05)  # all three are queued
    gone.cancel()  # a client that disconnected while waiting
    # The connection comes back and is handed to the next waiter, which is cancelled before it
    # runs: the connection must go on to the one after it.
    await held.close()
    handed.cancel()
    await asyncio.wait_for(stays, timeout=5)
    assert served == ["stays"]
    assert gone.cancelled() and handed.cancelled()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
