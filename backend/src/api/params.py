"""Path parameters shared by the routes. Ids are PostgreSQL `integer`s: anything outside that
range cannot exist, and is a 422 rather than a database error."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from src.db.types import ID_MAX

TaskId = Annotated[int, Path(ge=1, le=ID_MAX, description="The task's id")]
ConversationId = Annotated[int, Path(ge=1, le=ID_MAX, description="The conversation's id")]
