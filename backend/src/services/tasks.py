"""Task operations shared by the REST API and the MCP tools. Every query is scoped to one user."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from src.db.types import utcnow
from src.models.task import (
    Priority,
    Recurrence,
    Task,
    TaskCounter,
    TaskCreate,
    TaskUpdate,
    normalize_tags,
)


class TaskNotFound(Exception):
    def __init__(self, task_id: int) -> None:
        super().__init__(f"task {task_id} not found")
        self.task_id = task_id


class TaskNumberNotFound(Exception):
    """The user has no task with that number (another user's numbers are not theirs)."""

    def __init__(self, number: int) -> None:
        super().__init__(f"task #{number} not found")
        self.number = number


class InvalidTag(ValueError):
    """A tag filter that no task could carry (not a tag by normalize_tags' rule)."""


class StatusFilter(StrEnum):
    ALL = "all"
    PENDING = "pending"
    COMPLETED = "completed"


class SortField(StrEnum):
    CREATED = "created"
    DUE = "due"
    PRIORITY = "priority"
    TITLE = "title"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


# Without an explicit order: soonest due and A→Z first, newest and most important first.
DEFAULT_ORDER = {
    SortField.CREATED: SortOrder.DESC,
    SortField.DUE: SortOrder.ASC,
    SortField.PRIORITY: SortOrder.DESC,
    SortField.TITLE: SortOrder.ASC,
}
PAGE_MAX = 100

# A listed task: a row with the task's columns (read with attribute access, like a Task).
TaskRow = sa.Row[Any]
_TASK_COLUMNS = tuple(Task.__table__.columns)  # type: ignore[attr-defined]
_TOTAL = "total_matching"
# A single statement is atomic on its own: no BEGIN and COMMIT (or ROLLBACK) round trips.
_SINGLE_STATEMENT = {"isolation_level": "AUTOCOMMIT"}


@dataclass(frozen=True, kw_only=True)
class TaskQuery:
    status: StatusFilter = StatusFilter.ALL
    priority: Priority | None = None
    tag: str | None = None
    q: str | None = None
    due_before: datetime | None = None  # exclusive
    due_after: datetime | None = None  # inclusive
    sort: SortField = SortField.CREATED
    order: SortOrder | None = None
    limit: int = 50
    offset: int = 0


async def create_task(session: AsyncSession, *, user_id: str, data: TaskCreate) -> Task:
    task = Task(user_id=user_id, number=await _next_number(session, user_id), **data.model_dump())
    session.add(task)
    await session.commit()
    return task


async def _next_number(session: AsyncSession, user_id: str) -> int:
    """The user's next task number, in the caller's transaction: the counter row stays locked
    until it commits, so two tasks created at once by one user never share a number, and a
    rolled-back create gives its number back."""
    statement = _count_up(session.get_bind().dialect.name)
    connection = await session.connection()  # in the session's transaction
    return (await connection.execute(statement, {"owner": user_id})).scalar_one()


@lru_cache(maxsize=2)
def _count_up(dialect: str) -> sa.Insert:
    """INSERT … ON CONFLICT DO UPDATE … RETURNING: the first number, or the last one plus one."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(TaskCounter).values(
        user_id=sa.bindparam("owner", type_=sa.String()), last_number=1
    )
    return statement.on_conflict_do_update(
        index_elements=[col(TaskCounter.user_id)],
        set_={"last_number": col(TaskCounter.last_number) + 1},
    ).returning(col(TaskCounter.last_number))


async def task_id_of(session: AsyncSession, *, user_id: str, number: int) -> int:
    """The id of the user's task with that number (numbers are never reused, so it stays
    valid for as long as the task exists)."""
    await _single_statement(session)
    statement = select(Task.id).where(Task.user_id == user_id, Task.number == number)
    task_id = (await session.exec(statement)).first()
    # Ends the autocommit use of the connection: a transaction that follows gets its own.
    await session.commit()
    if task_id is None:
        raise TaskNumberNotFound(number)
    return task_id


async def get_task(
    session: AsyncSession, *, user_id: str, task_id: int, for_update: bool = False
) -> Task:
    statement = select(Task).where(Task.id == task_id, Task.user_id == user_id)
    if for_update:
        statement = statement.with_for_update()
    else:
        await _single_statement(session)
    task = (await session.exec(statement)).first()
    if task is None:
        raise TaskNotFound(task_id)
    return task


async def list_tasks(
    session: AsyncSession, *, user_id: str, query: TaskQuery
) -> tuple[list[TaskRow], int]:
    """One page of the user's tasks (read-only rows with the task's columns) and how many
    match in all. One statement outside any transaction: a page and its total that agree."""
    dialect = session.get_bind().dialect.name
    values = _filter_values(dialect, user_id=user_id, query=query)
    page, count = _list_statements(
        dialect, frozenset(values), query.status, query.sort, _descending(query)
    )
    connection = await _single_statement(session)
    rows = list(
        (
            await connection.execute(
                page, {**values, "limit": min(query.limit, PAGE_MAX), "offset": query.offset}
            )
        ).all()
    )
    if rows:
        return rows, rows[0][-1]
    if query.offset == 0:
        return rows, 0
    # Past the last page: the window counted no rows, so the total needs a query of its own.
    return rows, await connection.scalar(count, values) or 0


async def _update_alone(
    session: AsyncSession,
    *,
    user_id: str,
    task_id: int,
    values: dict[str, Any],
    toggle: bool = False,
    only_if_not_recurring: bool = False,
) -> Task | None:
    """Sets `values` (and `updated_at`; `toggle` flips `completed`) in one UPDATE … RETURNING
    outside a transaction; None when no task of the user has that id (and qualifies)."""
    statement = _update_statement(frozenset(values), toggle, only_if_not_recurring)
    params = {f"new_{name}": value for name, value in values.items()}
    params |= {"the_id": task_id, "owner": user_id, "new_updated_at": utcnow()}
    await _single_statement(session)
    task = (await session.exec(statement, params=params)).scalars().first()
    # Ends the autocommit use of the connection: a transaction that follows gets its own.
    await session.commit()
    return task


@lru_cache(maxsize=256)
def _update_statement(
    names: frozenset[str], toggle: bool, only_if_not_recurring: bool
) -> sa.Update:
    """The UPDATE … RETURNING for one set of changed fields, built once (see _list_statements)."""
    columns = Task.__table__.c  # type: ignore[attr-defined]
    values: dict[str, Any] = {
        name: sa.bindparam(f"new_{name}", type_=columns[name].type)
        for name in (*names, "updated_at")
    }
    if toggle:
        values["completed"] = sa.not_(col(Task.completed))
    statement = (
        sa.update(Task)
        .where(
            col(Task.id) == sa.bindparam("the_id", type_=sa.Integer()),
            col(Task.user_id) == sa.bindparam("owner", type_=sa.String()),
        )
        .values(**values)
        .returning(Task)
    )
    if only_if_not_recurring:
        statement = statement.where(col(Task.recurrence) == Recurrence.NONE.value)
    return statement


async def _single_statement(session: AsyncSession) -> AsyncConnection:
    """The session's connection, outside a transaction for the one statement the caller runs
    (a session already in a transaction keeps it: options apply only to a new connection)."""
    options = None if session.in_transaction() else _SINGLE_STATEMENT
    return await session.connection(execution_options=options)


async def update_task(
    session: AsyncSession, *, user_id: str, task_id: int, data: TaskUpdate
) -> tuple[Task, Task | None]:
    """Apply the given fields; returns the task and, if this completed it, its next occurrence."""
    changes = data.model_dump(exclude_unset=True)
    if changes.get("completed") is not True:
        # Nothing can spawn: one UPDATE … RETURNING does it all.
        task = await _update_alone(session, user_id=user_id, task_id=task_id, values=changes)
        if task is None:
            raise TaskNotFound(task_id)
        return task, None
    task = await get_task(session, user_id=user_id, task_id=task_id, for_update=True)
    completing = not task.completed
    for name, value in changes.items():
        setattr(task, name, value)
    task.updated_at = utcnow()
    next_task = await _spawn_next_occurrence(session, task) if completing else None
    await session.commit()
    return task, next_task


async def set_completed(
    session: AsyncSession, *, user_id: str, task_id: int, completed: bool | None = None
) -> tuple[Task, Task | None]:
    """Complete (or reopen) a task; `completed=None` toggles. Completing a recurring task
    creates its next occurrence, once."""
    # A task that does not recur, or a reopening, is one UPDATE … RETURNING. Otherwise (or if
    # the task is not there) the task is read under a lock and its next occurrence spawned in
    # the same transaction.
    task = await _update_alone(
        session,
        user_id=user_id,
        task_id=task_id,
        values={} if completed is None else {"completed": completed},
        toggle=completed is None,
        only_if_not_recurring=completed is not False,
    )
    if task is not None:
        return task, None
    task = await get_task(session, user_id=user_id, task_id=task_id, for_update=True)
    target = not task.completed if completed is None else completed
    completing = target and not task.completed
    task.completed = target
    task.updated_at = utcnow()
    next_task = await _spawn_next_occurrence(session, task) if completing else None
    await session.commit()
    return task, next_task


async def delete_task(session: AsyncSession, *, user_id: str, task_id: int) -> Task:
    await _single_statement(session)
    statement = (
        sa.delete(Task).where(col(Task.id) == task_id, col(Task.user_id) == user_id).returning(Task)
    )
    task = (await session.exec(statement)).scalars().first()
    await session.commit()
    if task is None:
        raise TaskNotFound(task_id)
    return task


# Recurrence ----------------------------------------------------------------------------------


def next_due(due_at: datetime | None, recurrence: Recurrence, now: datetime) -> datetime | None:
    """The first occurrence after `now`, stepping from the current due date (or from now);
    None when it would fall after the year 9999, the calendar's end: the series ends there."""
    base = due_at or now
    try:
        if recurrence is Recurrence.MONTHLY:
            months = 1
            while (candidate := add_months(base, months)) <= now:
                months += 1
            return candidate
        step = timedelta(days=1 if recurrence is Recurrence.DAILY else 7)
        steps = 1 if base > now else (now - base) // step + 1
        return base + steps * step
    except (OverflowError, ValueError):  # ValueError: datetime.replace(year=10000)
        return None


def add_months(moment: datetime, months: int) -> datetime:
    """Same day next month, clamped to the month's end (Jan 31 → Feb 28 → Mar 31)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


async def _spawn_next_occurrence(session: AsyncSession, task: Task) -> Task | None:
    recurrence = Recurrence(task.recurrence)
    if recurrence is Recurrence.NONE:
        return None
    already = (await session.exec(select(Task.id).where(Task.recurs_from_id == task.id))).first()
    if already is not None:
        return None  # completed, reopened and completed again: the next one exists already
    due_at = next_due(task.due_at, recurrence, utcnow())
    if due_at is None:
        return None
    next_task = Task(
        user_id=task.user_id,
        number=await _next_number(session, task.user_id),
        title=task.title,
        description=task.description,
        priority=task.priority,
        tags=list(task.tags),
        recurrence=recurrence,
        due_at=due_at,
        recurs_from_id=task.id,
    )
    session.add(next_task)
    await session.flush()
    return next_task


# Query building ------------------------------------------------------------------------------


def _filter_values(dialect: str, *, user_id: str, query: TaskQuery) -> dict[str, Any]:
    """The values the list's filters compare with, by bound-parameter name; which names are
    present (with the status and the sort) is the statement's shape."""
    values: dict[str, Any] = {"user_id": user_id}
    if query.priority is not None:
        values["priority"] = query.priority.value
    if query.tag is not None:
        try:
            tag = normalize_tags([query.tag])[0]
        except ValueError as exc:
            raise InvalidTag(str(exc)) from None
        values["tag"] = [tag] if dialect == "postgresql" else tag
    if query.q and query.q.strip():
        values["pattern"] = f"%{_escape_like(query.q.strip())}%"
    if query.due_before is not None:
        values["due_before"] = query.due_before
    if query.due_after is not None:
        values["due_after"] = query.due_after
    return values


@lru_cache(maxsize=512)
def _list_statements(
    dialect: str,
    names: frozenset[str],
    status: StatusFilter,
    sort: SortField,
    descending: bool,
) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The page (with the total over it) and the count for one shape of list request, built
    once: building SQLAlchemy statements costs more CPU than PostgreSQL spends running them."""
    conditions: list[sa.ColumnElement[bool]] = [col(Task.user_id) == sa.bindparam("user_id")]
    if status is StatusFilter.PENDING:
        conditions.append(col(Task.completed).is_(False))
    elif status is StatusFilter.COMPLETED:
        conditions.append(col(Task.completed).is_(True))
    if "priority" in names:
        conditions.append(col(Task.priority) == sa.bindparam("priority"))
    if "tag" in names:
        conditions.append(_has_tag(dialect))
    if "pattern" in names:
        pattern = sa.bindparam("pattern", type_=sa.String())
        conditions.append(
            sa.or_(
                col(Task.title).ilike(pattern, escape="\\"),
                col(Task.description).ilike(pattern, escape="\\"),
            )
        )
    due_type = Task.__table__.c.due_at.type  # type: ignore[attr-defined]
    if "due_before" in names:
        conditions.append(col(Task.due_at) < sa.bindparam("due_before", type_=due_type))
    if "due_after" in names:
        conditions.append(col(Task.due_at) >= sa.bindparam("due_after", type_=due_type))
    page = (
        sa.select(*_TASK_COLUMNS, sa.func.count().over().label(_TOTAL))
        .where(*conditions)
        .order_by(*_ordering(sort, descending))
        .limit(sa.bindparam("limit", type_=sa.Integer()))
        .offset(sa.bindparam("offset", type_=sa.Integer()))
    )
    count = sa.select(sa.func.count()).select_from(Task).where(*conditions)
    return page, count


def _has_tag(dialect: str) -> sa.ColumnElement[bool]:
    if dialect == "postgresql":
        return sa.type_coerce(Task.tags, postgresql.JSONB).contains(
            sa.bindparam("tag", type_=postgresql.JSONB())
        )
    elements = sa.func.json_each(Task.tags).table_valued("value")
    return (
        sa.select(1).select_from(elements).where(elements.c.value == sa.bindparam("tag")).exists()
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _descending(query: TaskQuery) -> bool:
    return (query.order or DEFAULT_ORDER[query.sort]) is SortOrder.DESC


def _ordering(sort: SortField, descending: bool) -> list[sa.ColumnElement[object]]:
    key: sa.ColumnElement[object]
    if sort is SortField.DUE:
        key = col(Task.due_at)
    elif sort is SortField.PRIORITY:
        key = sa.case({"low": 0, "medium": 1, "high": 2}, value=col(Task.priority), else_=1)
    elif sort is SortField.TITLE:
        key = sa.func.lower(col(Task.title))
    else:
        key = col(Task.created_at)
    primary = key.desc() if descending else key.asc()
    tiebreak = col(Task.id).desc() if descending else col(Task.id).asc()
    # Tasks without a due date come last whichever way the list is sorted.
    return [primary.nulls_last(), tiebreak]
