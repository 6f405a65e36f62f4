"""The task numbers the user's list shows, in display order, for the turn in hand: what "the
first task" or "the last one" counts over. The chat binds them from the request
(`visible_tasks`, like the user and their zone: never from the model); None when the request
named none (ChatKit, API clients), and ordinals then count the user's open tasks newest first,
the list's default order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[tuple[int, ...] | None] = ContextVar("visible_tasks", default=None)


def visible_tasks() -> tuple[int, ...] | None:
    return _current.get()


@contextmanager
def showing(numbers: Sequence[int] | None) -> Iterator[None]:
    """Work done in this context (and in tasks it starts) sees the list showing `numbers`."""
    reset = _current.set(None if numbers is None else tuple(numbers))
    try:
        yield
    finally:
        _current.reset(reset)
