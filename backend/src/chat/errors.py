"""How a failed turn is told apart and reported (no SDK import: the routes use these)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from src.db.errors import DATABASE_UNAVAILABLE, is_database_outage

log = logging.getLogger(__name__)


class AssistantFailed(Exception):
    """The model or the agent loop failed; the user's message is kept, no reply is stored."""


@contextmanager
def assistant_failures() -> Iterator[None]:
    """A failure of the model or the agent loop becomes AssistantFailed; a database outage
    stays what it is (the app answers 503 for it)."""
    try:
        yield
    except Exception as exc:
        if is_database_outage(exc):
            raise
        log.warning("assistant failed", extra={"error": type(exc).__name__})
        raise AssistantFailed(f"the assistant could not answer ({type(exc).__name__})") from exc


def public_error(exc: Exception) -> str:
    """What the user is told about a failed turn."""
    if isinstance(exc, AssistantFailed):
        return str(exc)
    return DATABASE_UNAVAILABLE if is_database_outage(exc) else "internal server error"
