"""How a failed turn is reported (no SDK import: the routes use these)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from src.db.errors import DATABASE_UNAVAILABLE, is_database_outage

if TYPE_CHECKING:
    from src.chat.failures import ModelFailure


class AssistantFailed(Exception):
    """The model or the agent loop failed; the turn is stored with `failure.notice` as the
    reply (turn.py)."""

    def __init__(self, failure: ModelFailure) -> None:
        super().__init__(failure.notice)
        self.failure = failure


def public_error(exc: Exception) -> str:
    """What the user is told about a failed turn."""
    if isinstance(exc, AssistantFailed):
        return str(exc)
    return DATABASE_UNAVAILABLE if is_database_outage(exc) else "internal server error"
