"""What the agent's unit tests run against.

Only here, function tools stand in for the MCP server: same names, same parameters, results
as JSON text like the MCP tools' text content, over an in-memory list. The outcome tests
(test_outcomes.py) run the same assistant through the real MCP server and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from agents import FunctionTool, function_tool

# A Tuesday afternoon: "tomorrow" is Wednesday the 25th, "next friday" the 27th.
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


@dataclass(frozen=True)
class ModelSettings:
    """The settings build_model reads (the app passes its pydantic Settings)."""

    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str | None = None
    openai_api: str | None = None
    openai_timeout_seconds: float = 30.0
    openai_max_retries: int = 2


def at(days: int, hour: int = 9, minute: int = 0) -> str:
    """ISO text of a moment `days` after NOW's date, as the assistant writes due dates."""
    day = NOW.date() + timedelta(days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).isoformat()


@dataclass
class TaskStore:
    """The MCP tools' behaviour over a list, for tests that only check what the agent calls."""

    tasks: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1

    def add(self, title: str, **fields: Any) -> dict[str, Any]:
        task = {
            "id": self.next_id,
            "number": self.next_id,
            "title": title,
            "description": fields.get("description"),
            "completed": fields.get("completed", False),
            "priority": fields.get("priority") or "medium",
            "tags": fields.get("tags") or [],
            "due_at": fields.get("due_at"),
            "recurrence": fields.get("recurrence") or "none",
        }
        self.next_id += 1
        self.tasks.append(task)
        return task

    def get(self, number: int) -> dict[str, Any]:
        for task in self.tasks:
            if task["number"] == number:
                return task
        raise LookupError(f"Task #{number} not found.")


def _due(task: dict[str, Any]) -> datetime | None:
    return datetime.fromisoformat(task["due_at"]) if task["due_at"] else None


def standin_tools(store: TaskStore) -> list[FunctionTool]:
    def changed(task: dict[str, Any], status: str) -> str:
        return json.dumps({"task_id": task["id"], "status": status, **task})

    def failure(error: LookupError) -> str:
        # What an MCP tool error looks like to the model: its message as plain text.
        return str(error)

    @function_tool
    def add_task(
        title: str,
        description: str | None = None,
        priority: Literal["low", "medium", "high"] | None = None,
        tags: list[str] | None = None,
        due_at: str | None = None,
        recurrence: Literal["none", "daily", "weekly", "monthly"] | None = None,
    ) -> str:
        """Add a task."""
        task = store.add(
            title, description=description, priority=priority, tags=tags, due_at=due_at,
            recurrence=recurrence,
        )  # fmt: skip
        return changed(task, "created")

    @function_tool
    def list_tasks(
        status: Literal["pending", "completed", "all"] = "pending",
        priority: Literal["low", "medium", "high"] | None = None,
        tag: str | None = None,
        q: str | None = None,
        due_before: str | None = None,
        due_after: str | None = None,
        limit: int | None = None,
        sort: Literal["due", "created"] = "due",
    ) -> str:
        """List tasks (in the order they were added, or newest first for sort "created")."""
        found = []
        for task in store.tasks:
            if status != "all" and task["completed"] != (status == "completed"):
                continue
            if priority and task["priority"] != priority:
                continue
            if tag and tag not in task["tags"]:
                continue
            if q and q.lower() not in f"{task['title']} {task['description'] or ''}".lower():
                continue
            due = _due(task)
            if due_before and (due is None or due > datetime.fromisoformat(due_before)):
                continue
            if due_after and (due is None or due < datetime.fromisoformat(due_after)):
                continue
            found.append(task)
        if sort == "created":
            found.reverse()
        return json.dumps(found[:limit] if limit else found)

    @function_tool
    def complete_task(number: int) -> str:
        """Mark a task done."""
        try:
            task = store.get(number)
        except LookupError as error:
            return failure(error)
        task["completed"] = True
        return changed(task, "completed")

    @function_tool
    def delete_task(number: int) -> str:
        """Delete a task."""
        try:
            task = store.get(number)
        except LookupError as error:
            return failure(error)
        store.tasks.remove(task)
        return changed(task, "deleted")

    @function_tool
    def update_task(
        number: int,
        title: str | None = None,
        description: str | None = None,
        priority: Literal["low", "medium", "high"] | None = None,
        tags: list[str] | None = None,
        due_at: str | None = None,
        recurrence: Literal["none", "daily", "weekly", "monthly"] | None = None,
        completed: bool | None = None,
    ) -> str:
        """Change a task."""
        try:
            task = store.get(number)
        except LookupError as error:
            return failure(error)
        fields = {
            "title": title, "description": description, "priority": priority, "tags": tags,
            "recurrence": recurrence, "completed": completed,
        }  # fmt: skip
        fields["due_at"] = due_at
        task.update({key: value for key, value in fields.items() if value is not None})
        if due_at == "":  # as the MCP tool: "" removes the due date
            task["due_at"] = None
        return changed(task, "updated")

    return [add_task, list_tasks, complete_task, delete_task, update_task]


@dataclass
class Turn:
    calls: list[tuple[str, dict[str, Any]]]
    reply: str


RunTurn = Callable[..., Any]


def tool_calls(items: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (item.raw_item.name, json.loads(item.raw_item.arguments))
        for item in items
        if item.type == "tool_call_item"
    ]
