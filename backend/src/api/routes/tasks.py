"""`/api/{user_id}/tasks`: the task list of the signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.exceptions import RequestValidationError

from src.api.deps import SessionDep, UserId
from src.api.params import TaskId
from src.api.responses import AUTHENTICATED, WITH_BODY, not_found
from src.db.types import ID_MAX
from src.models.fields import Text, UTCMoment
from src.models.task import TAG_RULE, Priority, TaskCreate, TaskList, TaskPublic, TaskUpdate
from src.services import tasks as service
from src.services.tasks import PAGE_MAX, InvalidTag, SortField, SortOrder, StatusFilter, TaskQuery

router = APIRouter(prefix="/api/{user_id}/tasks", tags=["tasks"], responses=AUTHENTICATED)
TASK_NOT_FOUND = not_found("task")


@router.get("", response_model=TaskList)
async def list_tasks(
    session: SessionDep,
    user_id: UserId,
    status_: Annotated[StatusFilter, Query(alias="status")] = StatusFilter.ALL,
    priority: Priority | None = None,
    tag: Annotated[
        str | None, Query(description="A tag, `#` optional", json_schema_extra=TAG_RULE)
    ] = None,
    q: Annotated[
        Text | None, Query(max_length=200, description="Search title and description")
    ] = None,
    due_before: Annotated[UTCMoment | None, Query(description="Due strictly before")] = None,
    due_after: Annotated[UTCMoment | None, Query(description="Due at or after")] = None,
    sort: SortField = SortField.CREATED,
    order: Annotated[
        SortOrder | None, Query(description="Default: desc for created/priority, asc otherwise")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> TaskList:
    query = TaskQuery(
        status=status_,
        priority=priority,
        tag=tag,
        q=q,
        due_before=due_before,
        due_after=due_after,
        sort=sort,
        order=order,
        limit=limit,
        offset=offset,
    )
    try:
        items, total = await service.list_tasks(session, user_id=user_id, query=query)
    except InvalidTag as exc:
        raise RequestValidationError(
            [{"loc": ("query", "tag"), "msg": str(exc), "type": "value_error"}]
        ) from None
    # Validated once, from plain rows: FastAPI then serializes the TaskList as it is.
    return TaskList.model_validate({"items": [row._mapping for row in items], "total": total})


@router.post(
    "", response_model=TaskPublic, status_code=status.HTTP_201_CREATED, responses=WITH_BODY
)
async def create_task(session: SessionDep, user_id: UserId, body: TaskCreate) -> TaskPublic:
    task = await service.create_task(session, user_id=user_id, data=body)
    return TaskPublic.model_validate(task)


@router.get("/{task_id}", response_model=TaskPublic, responses=TASK_NOT_FOUND)
async def get_task(session: SessionDep, user_id: UserId, task_id: TaskId) -> TaskPublic:
    return TaskPublic.model_validate(
        await service.get_task(session, user_id=user_id, task_id=task_id)
    )


@router.put("/{task_id}", response_model=TaskPublic, responses={**TASK_NOT_FOUND, **WITH_BODY})
async def update_task(
    session: SessionDep, user_id: UserId, task_id: TaskId, body: TaskUpdate
) -> TaskPublic:
    """Change any subset of fields (send `null` to clear `description` or `due_at`)."""
    task, _ = await service.update_task(session, user_id=user_id, task_id=task_id, data=body)
    return TaskPublic.model_validate(task)


@router.patch("/{task_id}/complete", response_model=TaskPublic, responses=TASK_NOT_FOUND)
async def toggle_complete(session: SessionDep, user_id: UserId, task_id: TaskId) -> TaskPublic:
    """Toggle completion. Completing a recurring task also creates its next occurrence."""
    task, _ = await service.set_completed(session, user_id=user_id, task_id=task_id)
    return TaskPublic.model_validate(task)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=TASK_NOT_FOUND)
async def delete_task(session: SessionDep, user_id: UserId, task_id: TaskId) -> None:
    await service.delete_task(session, user_id=user_id, task_id=task_id)
