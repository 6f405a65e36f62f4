"""A connection pool that serves the requests waiting for a connection in the order they came.

SQLAlchemy's asyncio pool keeps its idle connections in an `asyncio.Queue`, which is not fair:
a returned connection wakes the longest waiter, but until that waiter runs, any request that
arrives takes the connection without waiting, and the woken waiter goes back to the end of the
line. On a busy event loop that happens to the same request again and again, so with more
requests in flight than connections a few waited seconds while the rest passed them. Here a
returned connection is handed to the first waiter directly, and a request that finds others
waiting queues behind them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon

_T = TypeVar("_T")


class HandOffQueue(QueueCommon[_T], Generic[_T]):
    """The pool's idle connections, and its waiters: an idle connection exists only while
    nobody waits, so `get` never passes a waiter."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        self.maxsize = maxsize
        self.use_lifo = use_lifo
        self._items: deque[_T] = deque()
        self._waiters: deque[asyncio.Future[_T]] = deque()

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: _T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._items.append(item)

    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        # The pool never returns more connections than it holds: a put never has to wait.
        self.put_nowait(item)

    def get_nowait(self) -> _T:
        if not self._items:
            raise Empty()
        return self._items.pop() if self.use_lifo else self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        if self._items or not block:
            return self.get_nowait()
        return await_(self._wait(seconds=timeout))

    async def _wait(self, *, seconds: float | None) -> _T:
        waiter: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(seconds):
                return await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                # Handed a connection just as the wait ended (timeout or cancellation): the
                # next waiter gets it.
                self.put_nowait(waiter.result())
            elif waiter in self._waiters:  # (a put drops the cancelled waiters it meets)
                waiter.cancel()
                self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise Empty() from None
            raise


class FairAsyncPool(AsyncAdaptedQueuePool):
    """`AsyncAdaptedQueuePool` (size, overflow, timeout, recycle alike) with first-come,
    first-served checkout."""

    _queue_class = HandOffQueue
