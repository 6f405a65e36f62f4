"""The task tools as an MCP server (the MCP SDK's MCPServer), served at /mcp/ over streamable
HTTP and reached in-process by the chat agent (src/mcp/client.py).

The caller is whoever the verified token says: over HTTP the SDK's bearer-auth middleware
verifies the request's token (external MCP clients: an IDE, a desktop assistant); in-process the
chat service binds the user of its already-verified request (`acting_as`). Either way the tools
read the SDK's access-token context. A tool's optional `user_id` argument is only ever checked
against it, never trusted.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from mcp.server.auth.middleware.auth_context import auth_context_var, get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, TextContent
from pydantic import Field, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette

from src.auth.jwks import InvalidToken, JWKSVerifier, SigningKeysUnavailable
from src.core.timezones import current_zone
from src.db.types import ID_MAX
from src.models.fields import DateTime, Text, as_utc
from src.models.task import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    Priority,
    Task,
    TaskCreate,
    TaskPublic,
    TaskUpdate,
)
from src.services import tasks as service
from src.services.tasks import (
    PAGE_MAX,
    InvalidTag,
    StatusFilter,
    TaskNotFound,
    TaskNumberNotFound,
    TaskQuery,
)

SERVER_NAME = "todo"

PriorityArg = Literal["low", "medium", "high"]
RecurrenceArg = Literal["none", "daily", "weekly", "monthly"]
UserIdArg = Annotated[
    str | None,
    Field(description="Optional. If given it must be the signed-in user's id; best left out."),
]
NumberArg = Annotated[
    int, Field(ge=1, le=ID_MAX, description='The task\'s number, as the list shows it ("#3")')
]
DueArg = Annotated[
    DateTime | None,
    Field(
        description="ISO 8601 date-time, e.g. 2026-11-25T09:00:00-08:00; without an offset it "
        "is read in the user's time zone"
    ),
]


# A page of tasks as list_tasks returns it: one pydantic-core pass over the rows, straight to JSON.
_TASK_PAGE = TypeAdapter(list[TaskPublic])


class JSONText(str):
    """A tool's answer already serialized as JSON."""


class Refused(Exception):
    """A tool call the tool turns down; its message is written for the model (or the user)."""


class BetterAuthTokens:
    """The SDK's TokenVerifier over the REST API's verification: a bad token gets a 401."""

    def __init__(self, verifier: JWKSVerifier) -> None:
        self._verifier = verifier

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            user = await self._verifier.verify(token)
        except (InvalidToken, SigningKeysUnavailable):
            return None
        return _access_token(user.id, token, claims=user.claims)


def _access_token(user_id: str, token: str, *, claims: dict[str, Any] | None = None) -> AccessToken:
    return AccessToken(
        token=token,
        client_id=user_id,
        scopes=[],
        expires_at=(claims or {}).get("exp"),
        subject=user_id,
        claims=claims,
    )


@contextmanager
def acting_as(user_id: str, *, token: str) -> Iterator[None]:
    """Tool calls made in this context (and in tasks it starts) act as this user, whose token the
    caller has already verified; what the model sends can never change it."""
    reset = auth_context_var.set(AuthenticatedUser(_access_token(user_id, token)))
    try:
        yield
    finally:
        auth_context_var.reset(reset)


def in_user_zone(moment: datetime | None, *, argument: str) -> datetime | None:
    """A time the tool was given, in UTC: one without an offset is read in the user's zone (the
    chat request's, bound like the user; UTC when it sent none)."""
    try:
        return as_utc(current_zone().localize(moment))
    except ValueError as exc:
        raise Refused(f"Invalid input: {argument}: {exc}") from None


def caller(user_id: str | None) -> str:
    """The signed-in user; a `user_id` argument naming anyone else refuses the call."""
    token = get_access_token()
    subject = token.subject if token is not None else None
    if not subject:
        raise Refused("Not signed in.")
    if user_id is not None and user_id != subject:
        raise Refused("user_id does not match the signed-in user; leave user_id out.")
    return subject


def task_view(task: Task) -> dict[str, Any]:
    """A task as tools return it (the owner is implied: it is always the caller)."""
    return TaskPublic.model_validate(task).model_dump(mode="json", exclude={"user_id"})


def task_page(rows: Sequence[Any]) -> JSONText:
    """Task rows as `task_view` shows each one, as a JSON array."""
    page = _TASK_PAGE.validate_python([row._mapping for row in rows])
    return JSONText(_TASK_PAGE.dump_json(page, exclude={"__all__": {"user_id"}}).decode())


def outcome(task: Task, status: str, *, next_task: Task | None = None) -> dict[str, Any]:
    """A mutation's result; completing a recurring task also shows the occurrence it created."""
    result = {"task_id": task.id, "status": status, **task_view(task)}
    if next_task is not None:
        result["next_occurrence"] = task_view(next_task)
    return result


@contextmanager
def numbered(number: int) -> Iterator[None]:
    """A tool acting on the caller's task `number`: no such task (the caller's numbers are the
    only ones there are) is refused, whoever else has one."""
    try:
        yield
    except (TaskNumberNotFound, TaskNotFound):  # TaskNotFound: deleted meanwhile
        raise Refused(f"Task #{number} not found.") from None


def _invalid(exc: ValidationError) -> Refused:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    )
    return Refused(f"Invalid input: {problems}")


def tool_result(value: Any, *, structured: bool) -> CallToolResult:
    """A tool's answer as compact JSON text (what the model reads), and as structured content
    for clients that read that instead."""
    text = value if isinstance(value, JSONText) else json.dumps(value, separators=(",", ":"))
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=value if structured else None,
    )


def refusal(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def build_mcp_server(
    *, verifier: JWKSVerifier, sessionmaker: async_sessionmaker[AsyncSession], issuer: str
) -> MCPServer:
    mcp = MCPServer(
        name=SERVER_NAME,
        instructions=(
            "Manage the signed-in user's to-do list. Tasks are identified by their number "
            "(#3: each user's own, in the order they were added); find a task's number with "
            "list_tasks (q searches titles and notes)."
        ),
        # Over HTTP, every request needs a valid bearer token (401 otherwise). Our tokens are
        # not bound to a resource URL: the verifier checks issuer and audience itself.
        token_verifier=BetterAuthTokens(verifier),
        auth=AuthSettings(issuer_url=issuer, resource_server_url=None),
    )

    def tool(*, structured: bool = True) -> Callable[[Callable[..., Awaitable[Any]]], Any]:
        """Registers a tool whose body returns plain data or raises Refused. Unexpected failures
        (a database outage, a bug) reach the model and external clients as the SDK's generic
        "Error executing tool <name>"; only Refused messages are shown verbatim."""

        def register(body: Callable[..., Awaitable[Any]]) -> Any:
            @functools.wraps(body)
            async def run(**arguments: Any) -> CallToolResult:
                try:
                    return tool_result(await body(**arguments), structured=structured)
                except Refused as exc:
                    return refusal(str(exc))

            mcp.add_tool(run, structured_output=structured)
            return body

        return register

    @tool()
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
            "due_at": in_user_zone(due_at, argument="due_at"),
            "recurrence": recurrence,
        }
        try:
            data = TaskCreate.model_validate({k: v for k, v in fields.items() if v is not None})
        except ValidationError as exc:
            raise _invalid(exc) from None
        async with sessionmaker() as session:
            task = await service.create_task(session, user_id=owner, data=data)
        return outcome(task, "created")

    # A list: JSON text only (structured content must be an object for older clients).
    @tool(structured=False)
    async def list_tasks(
        status: Literal["pending", "completed", "all"] = "pending",
        priority: PriorityArg | None = None,
        tag: Text | None = None,
        q: Annotated[
            Text | None, Field(description="Words to look for in titles and descriptions")
        ] = None,
        due_before: Annotated[
            DateTime | None, Field(description="Due strictly before (ISO 8601, as due_at)")
        ] = None,
        due_after: Annotated[
            DateTime | None, Field(description="Due at or after (ISO 8601, as due_at)")
        ] = None,
        limit: Annotated[int | None, Field(ge=1, le=PAGE_MAX)] = None,
        sort: Annotated[
            Literal["due", "created"],
            Field(description="due: soonest first (none last); created: newest first"),
        ] = "due",
        user_id: UserIdArg = None,
    ) -> JSONText:
        """List the user's tasks (pending ones unless status says otherwise), soonest due
        first (tasks without a due date last), or newest first as the app's list shows them."""
        owner = caller(user_id)
        query = TaskQuery(
            status=StatusFilter(status),
            priority=Priority(priority) if priority else None,
            tag=tag or None,  # a model may send "" for no tag
            q=q,
            due_before=in_user_zone(due_before, argument="due_before"),
            due_after=in_user_zone(due_after, argument="due_after"),
            sort=service.SortField(sort),
            limit=limit or PAGE_MAX,
        )
        try:
            async with sessionmaker() as session:
                found, _ = await service.list_tasks(session, user_id=owner, query=query)
        except InvalidTag as exc:
            raise Refused(f"Invalid input: {exc}") from None
        return task_page(found)

    @tool()
    async def complete_task(number: NumberArg, user_id: UserIdArg = None) -> dict[str, Any]:
        """Mark a task as done. A recurring task then gets its next occurrence."""
        owner = caller(user_id)
        with numbered(number):
            async with sessionmaker() as session:
                task, next_task = await service.set_completed(
                    session,
                    user_id=owner,
                    task_id=await service.task_id_of(session, user_id=owner, number=number),
                    completed=True,
                )
        return outcome(task, "completed", next_task=next_task)

    @tool()
    async def delete_task(number: NumberArg, user_id: UserIdArg = None) -> dict[str, Any]:
        """Delete a task for good."""
        owner = caller(user_id)
        with numbered(number):
            async with sessionmaker() as session:
                task = await service.delete_task(
                    session,
                    user_id=owner,
                    task_id=await service.task_id_of(session, user_id=owner, number=number),
                )
        return outcome(task, "deleted")

    @tool()
    async def update_task(
        number: NumberArg,
        title: str | None = None,
        description: Annotated[str | None, Field(description='New notes; "" clears them')] = None,
        priority: PriorityArg | None = None,
        tags: Annotated[list[str] | None, Field(description="Replaces all tags")] = None,
        due_at: Annotated[
            DateTime | Literal[""] | None,
            Field(
                description='New due date-time (ISO 8601, as in add_task); "" removes the due date'
            ),
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
        elif "due_at" in changes:
            changes["due_at"] = in_user_zone(changes["due_at"], argument="due_at")
        if not changes:
            raise Refused("Nothing to change: give at least one field.")
        try:
            data = TaskUpdate.model_validate(changes)
        except ValidationError as exc:
            raise _invalid(exc) from None
        with numbered(number):
            async with sessionmaker() as session:
                task, next_task = await service.update_task(
                    session,
                    user_id=owner,
                    task_id=await service.task_id_of(session, user_id=owner, number=number),
                    data=data,
                )
        return outcome(task, "updated", next_task=next_task)

    return mcp


def mcp_http_app(mcp: MCPServer) -> Starlette:
    """The streamable HTTP endpoint, to mount at MCP_PATH; run its lifespan with the app's.

    Stateless: any replica can serve any MCP request (no session affinity needed), with plain
    JSON answers. DNS-rebinding checks are off: a browser on a rebound name cannot attach a
    user's bearer token, which every request needs, and the app already applies CORS.
    """
    return mcp.streamable_http_app(
        streamable_http_path="/",
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
