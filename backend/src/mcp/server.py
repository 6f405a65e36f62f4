"""The task tools as an MCP server (FastMCP, streamable HTTP), mounted by the app at /mcp/.

The caller is whoever the request's bearer token says; the chat agent reaches this server
in-process carrying its user's token, and external MCP clients (an IDE, a desktop assistant)
connect with a user's token the same way. A tool's optional `user_id` argument is only ever
checked against the token, never trusted.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from fastmcp.server.auth import AccessToken, TokenVerifier
from fastmcp.server.dependencies import get_access_token
from fastmcp.tools import ToolResult
from mcp.types import TextContent
from pydantic import Field, ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from src.auth.jwks import InvalidToken, JWKSVerifier, SigningKeysUnavailable
from src.db.types import ID_MAX
from src.models.task import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    Priority,
    Task,
    TaskCreate,
    TaskPublic,
    TaskUpdate,
    as_utc,
)
from src.services import tasks as service
from src.services.tasks import PAGE_MAX, InvalidTag, StatusFilter, TaskNotFound, TaskQuery

SERVER_NAME = "todo"

PriorityArg = Literal["low", "medium", "high"]
RecurrenceArg = Literal["none", "daily", "weekly", "monthly"]
UserIdArg = Annotated[
    str | None,
    Field(description="Optional. If given it must be the signed-in user's id; best left out."),
]
TaskIdArg = Annotated[int, Field(ge=1, le=ID_MAX, description="The task's number (its id)")]
DueArg = Annotated[
    datetime | None,
    Field(description="ISO 8601 date-time with a UTC offset, e.g. 2026-11-25T09:00:00+00:00"),
]


class BetterAuthTokens(TokenVerifier):
    """Lets FastMCP answer 401 to bad tokens using the same verification as the REST API."""

    def __init__(self, verifier: JWKSVerifier) -> None:
        super().__init__()
        self._verifier = verifier

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            user = await self._verifier.verify(token)
        except (InvalidToken, SigningKeysUnavailable):
            return None
        return AccessToken(
            token=token,
            client_id=user.id,
            scopes=[],
            expires_at=user.claims.get("exp"),
            claims=user.claims,
        )


def caller(user_id: str | None) -> str:
    """The signed-in user; a `user_id` argument naming anyone else refuses the call."""
    token = get_access_token()
    subject = token.claims.get("sub") if token is not None else None
    if not subject:
        raise ToolError("Not signed in.")
    if user_id is not None and user_id != subject:
        raise ToolError("user_id does not match the signed-in user; leave user_id out.")
    return subject


def task_view(task: Task) -> dict[str, Any]:
    """A task as tools return it (the owner is implied: it is always the caller)."""
    return TaskPublic.model_validate(task).model_dump(mode="json", exclude={"user_id"})


def outcome(task: Task, status: str, *, next_task: Task | None = None) -> dict[str, Any]:
    """A mutation's result; completing a recurring task also shows the occurrence it created."""
    result = {"task_id": task.id, "status": status, **task_view(task)}
    if next_task is not None:
        result["next_occurrence"] = task_view(next_task)
    return result


def _invalid(exc: ValidationError) -> ToolError:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    )
    return ToolError(f"Invalid input: {problems}")


def build_mcp_server(
    *, verifier: JWKSVerifier, sessionmaker: async_sessionmaker[AsyncSession]
) -> FastMCP:
    mcp = FastMCP(
        name=SERVER_NAME,
        instructions=(
            "Manage the signed-in user's to-do list. Tasks are identified by their number "
            "(task_id); find a task's number with list_tasks (q searches titles and notes)."
        ),
        auth=BetterAuthTokens(verifier),
        # Unexpected failures (a database outage, a bug) reach the model and external clients as
        # a generic tool error; only ToolError messages, written for them, are shown verbatim.
        mask_error_details=True,
    )

    @mcp.tool
    async def add_task(
        title: Annotated[str, Field(description=f"What to do (1–{TITLE_MAX} characters)")],
        description: Annotated[
            str | None, Field(description=f"Notes (up to {DESCRIPTION_MAX} characters)")
        ] = None,
        priority: PriorityArg | None = None,
        tags: Annotated[list[str] | None, Field(description="Short lowercase words")] = None,
        due_at: DueArg = None,
        recurrence: Annotated[
            RecurrenceArg | None,
            Field(description="Repeat; completing it then creates the next occurrence"),
        ] = None,
        user_id: UserIdArg = None,
    ) -> dict[str, Any]:
        """Add a task to the user's list."""
        owner = caller(user_id)
        fields = {
            "title": title,
            "description": description,
            "priority": priority,
            "tags": tags,
            "due_at": due_at,
            "recurrence": recurrence,
        }
        try:
            data = TaskCreate.model_validate({k: v for k, v in fields.items() if v is not None})
        except ValidationError as exc:
            raise _invalid(exc) from None
        async with sessionmaker() as session:
            task = await service.create_task(session, user_id=owner, data=data)
        return outcome(task, "created")

    # Returned as JSON text even when empty ("[]"): FastMCP would send no content at all for an
    # empty list, which reads as "no answer" rather than "no tasks".
    @mcp.tool(output_schema=None)
    async def list_tasks(
        status: Literal["pending", "completed", "all"] = "pending",
        priority: PriorityArg | None = None,
        tag: str | None = None,
        q: Annotated[
            str | None, Field(description="Words to look for in titles and descriptions")
        ] = None,
        due_before: Annotated[datetime | None, Field(description="Due strictly before")] = None,
        due_after: Annotated[datetime | None, Field(description="Due at or after")] = None,
        limit: Annotated[int | None, Field(ge=1, le=PAGE_MAX)] = None,
        user_id: UserIdArg = None,
    ) -> ToolResult:
        """List the user's tasks (pending ones unless status says otherwise), soonest due
        first; tasks without a due date come last."""
        owner = caller(user_id)
        query = TaskQuery(
            status=StatusFilter(status),
            priority=Priority(priority) if priority else None,
            tag=tag,
            q=q,
            due_before=as_utc(due_before),
            due_after=as_utc(due_after),
            sort=service.SortField.DUE,
            limit=limit or PAGE_MAX,
        )
        try:
            async with sessionmaker() as session:
                found, _ = await service.list_tasks(session, user_id=owner, query=query)
        except InvalidTag as exc:
            raise ToolError(f"Invalid input: {exc}") from None
        views = [task_view(task) for task in found]
        return ToolResult(content=[TextContent(type="text", text=json.dumps(views))])

    @mcp.tool
    async def complete_task(task_id: TaskIdArg, user_id: UserIdArg = None) -> dict[str, Any]:
        """Mark a task as done. A recurring task then gets its next occurrence."""
        owner = caller(user_id)
        async with sessionmaker() as session:
            try:
                task, next_task = await service.set_completed(
                    session, user_id=owner, task_id=task_id, completed=True
                )
            except TaskNotFound:
                raise ToolError(f"Task {task_id} not found.") from None
        return outcome(task, "completed", next_task=next_task)

    @mcp.tool
    async def delete_task(task_id: TaskIdArg, user_id: UserIdArg = None) -> dict[str, Any]:
        """Delete a task for good."""
        owner = caller(user_id)
        async with sessionmaker() as session:
            try:
                task = await service.delete_task(session, user_id=owner, task_id=task_id)
            except TaskNotFound:
                raise ToolError(f"Task {task_id} not found.") from None
        return outcome(task, "deleted")

    @mcp.tool
    async def update_task(
        task_id: TaskIdArg,
        title: str | None = None,
        description: Annotated[str | None, Field(description='New notes; "" clears them')] = None,
        priority: PriorityArg | None = None,
        tags: Annotated[list[str] | None, Field(description="Replaces all tags")] = None,
        due_at: Annotated[
            datetime | Literal[""] | None,
            Field(description='New due date-time (ISO 8601); "" removes the due date'),
        ] = None,
        recurrence: RecurrenceArg | None = None,
        completed: Annotated[bool | None, Field(description="false reopens a done task")] = None,
        user_id: UserIdArg = None,
    ) -> dict[str, Any]:
        """Change a task: only the fields given change."""
        owner = caller(user_id)
        fields: dict[str, Any] = {
            "title": title,
            "description": description,
            "priority": priority,
            "tags": tags,
            "recurrence": recurrence,
            "completed": completed,
            "due_at": due_at,
        }
        changes = {k: v for k, v in fields.items() if v is not None}
        if changes.get("due_at") == "":
            changes["due_at"] = None
        if not changes:
            raise ToolError("Nothing to change: give at least one field.")
        try:
            data = TaskUpdate.model_validate(changes)
        except ValidationError as exc:
            raise _invalid(exc) from None
        async with sessionmaker() as session:
            try:
                task, next_task = await service.update_task(
                    session, user_id=owner, task_id=task_id, data=data
                )
            except TaskNotFound:
                raise ToolError(f"Task {task_id} not found.") from None
        return outcome(task, "updated", next_task=next_task)

    return mcp
