"""Tasks: the table and the shapes the API reads and writes (Base / Create / Update / Public)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import StrictBool, field_validator
from sqlmodel import Field, SQLModel

from src.db.types import JSONDocument, UTCDateTime, utcnow
from src.models.fields import NO_NUL, NOT_BLANK, as_utc, refuse_nul, reject_numbers

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
TAG_MAX = 32
TAGS_MAX = 20


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Recurrence(StrEnum):
    NONE = "none"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


# A tag is a word: an optional `#`, then 1–32 characters that are not `#`, a comma, a space or a
# control character (the UI splits tags at spaces and commas); stored lower-case, without the
# `#`. The pattern is the rule, for the OpenAPI schema; normalize_tags applies it and says which
# part a tag breaks.
TAG_PATTERN = rf"^#?[^#,\u0000-\u0020\u007f]{{1,{TAG_MAX}}}$"
_TAG = re.compile(TAG_PATTERN)
TAG_RULE: dict[str, Any] = {"pattern": TAG_PATTERN}
Tag = Annotated[str, Field(schema_extra={"json_schema_extra": TAG_RULE})]


def normalize_tags(tags: list[str]) -> list[str]:
    """`#Home` and `home` are one tag; order kept, duplicates dropped."""
    seen: list[str] = []
    for raw in tags:
        tag = raw.removeprefix("#")
        if not tag:
            raise ValueError("tags must not be empty")
        if len(tag) > TAG_MAX:
            raise ValueError(f"tag {tag[:40]!r} is longer than {TAG_MAX} characters")
        if not _TAG.fullmatch(raw):
            raise ValueError(
                f"tag {tag!r} is not one word: no spaces, commas, '#' or control characters"
            )
        tag = tag.lower()
        if tag not in seen:
            seen.append(tag)
    return seen


class _TaskFieldRules(SQLModel):
    @field_validator("title", mode="before", check_fields=False)
    @classmethod
    def _strip_title(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("description", mode="before", check_fields=False)
    @classmethod
    def _blank_description_is_none(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("title", "description", check_fields=False)
    @classmethod
    def _storable_text(cls, value: str | None) -> str | None:
        return None if value is None else refuse_nul(value)

    @field_validator("tags", check_fields=False)
    @classmethod
    def _normalize_tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else normalize_tags(value)

    @field_validator("due_at", mode="before", check_fields=False)
    @classmethod
    def _due_is_a_date(cls, value: Any) -> Any:
        return reject_numbers(value)

    @field_validator("due_at", check_fields=False)
    @classmethod
    def _due_in_utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value)


class TaskBase(SQLModel):
    title: str = Field(
        min_length=1, max_length=TITLE_MAX, schema_extra={"json_schema_extra": NOT_BLANK}
    )
    description: str | None = Field(
        default=None, max_length=DESCRIPTION_MAX, schema_extra={"json_schema_extra": NO_NUL}
    )
    priority: Priority = Priority.MEDIUM
    tags: list[Tag] = Field(default_factory=list, max_length=TAGS_MAX)
    due_at: datetime | None = None
    recurrence: Recurrence = Recurrence.NONE


class TaskCreate(_TaskFieldRules, TaskBase):
    pass


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _drop_default_not_blank(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
    schema.update(NOT_BLANK)


_NO_DEFAULT = {"json_schema_extra": _drop_default}
_NO_DEFAULT_NOT_BLANK = {"json_schema_extra": _drop_default_not_blank}


class TaskUpdate(_TaskFieldRules):
    """Any subset of fields; `description` and `due_at` may be set to null to clear them."""

    # Typed without None: omitted means unchanged, and null is refused (see _not_null).
    title: str = Field(
        default=None, min_length=1, max_length=TITLE_MAX, schema_extra=_NO_DEFAULT_NOT_BLANK
    )
    description: str | None = Field(
        default=None, max_length=DESCRIPTION_MAX, schema_extra={"json_schema_extra": NO_NUL}
    )
    priority: Priority = Field(default=None, schema_extra=_NO_DEFAULT)
    tags: list[Tag] = Field(default=None, max_length=TAGS_MAX, schema_extra=_NO_DEFAULT)
    due_at: datetime | None = None
    recurrence: Recurrence = Field(default=None, schema_extra=_NO_DEFAULT)
    completed: StrictBool = Field(default=None, schema_extra=_NO_DEFAULT)

    @field_validator("title", "priority", "tags", "recurrence", "completed", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Omit a field to leave it unchanged; only description and due_at can be cleared.
        if value is None:
            raise ValueError("may not be null")
        return value


class Task(TaskBase, table=True):
    __tablename__ = "task"
    __table_args__ = (
        sa.Index("ix_task_user_created", "user_id", "created_at"),
        sa.Index("ix_task_user_due", "user_id", "due_at"),
        sa.UniqueConstraint("user_id", "number", name="uq_task_user_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=255, nullable=False)
    # The user's own name for the task (#1, #2, … in creation order, never reused): what the
    # list shows and chat accepts. Assigned from TaskCounter.
    number: int = Field(nullable=False)
    completed: bool = Field(default=False, nullable=False)
    priority: Priority = Field(default=Priority.MEDIUM, sa_type=sa.String(10), nullable=False)
    tags: list[str] = Field(default_factory=list, sa_type=JSONDocument, nullable=False)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recurrence: Recurrence = Field(default=Recurrence.NONE, sa_type=sa.String(10), nullable=False)
    # The task whose completion created this one: a recurring task spawns its next occurrence once.
    recurs_from_id: int | None = Field(
        default=None, foreign_key="task.id", ondelete="SET NULL", unique=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class TaskCounter(SQLModel, table=True):
    """The last task number each user was given: numbers keep counting past deleted tasks."""

    __tablename__ = "task_counter"

    user_id: str = Field(max_length=255, primary_key=True)
    last_number: int = Field(nullable=False)


class TaskPublic(TaskBase):
    # As stored: lower-case, without the `#` (a lower-cased tag may be longer than it was sent).
    tags: list[str] = Field(default_factory=list)
    id: int
    number: int = Field(description="The user's own task number (#3), never reused")
    user_id: str
    completed: bool
    created_at: datetime
    updated_at: datetime


class TaskList(SQLModel):
    items: list[TaskPublic]
    total: int
