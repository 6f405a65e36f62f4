"""The todo assistant: an Agents SDK Agent whose tools come from the app's MCP server."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agents import Agent, Model, ModelSettings, RunContextWrapper, Tool

from src.core.timezones import UTC_FALLBACK, UserZone

from .offline import Clock, utc_now

AGENT_NAME = "Todo assistant"

INSTRUCTIONS = """\
You are the to-do assistant of a task app. You manage the signed-in user's tasks with your
tools: add_task, list_tasks, complete_task, delete_task and update_task.

{now}
{zone}
{visible}

How to work:
- The app already knows who the user is. Never ask for, mention or pass a user id: leave any
  user_id parameter out of every tool call.
- When a request is clear, act on it with the tools instead of asking for confirmation.
- Tasks have numbers, the user's own (#1, #2, … in the order they were added; the list shows
  them). A task given by number ("task 3", "#3") is that number: pass it as `number`. A task
  given by its place ("the first task", "the second one", "the last task") is counted as said
  above. A task described by words ("the dentist task", "buy milk") must be looked up first:
  call list_tasks with q set to its key words and status "all". Act when exactly one task
  matches; when several match, list them with their numbers and ask which one; when none
  match, say so. Never guess a number, and never show a task's id: only its number.
- Dates: turn relative dates ("tomorrow", "next friday", "in 3 days", "this week") into
  ISO 8601 timestamps with the offset of the user's time zone, counted from the current date
  above. A date without a time means 09:00 there. Tools return times in UTC: say them in the
  user's time zone. Never invent a due date the user did not give.
- priority is low, medium (the default) or high; "urgent" and "important" mean high. tags are
  short lowercase words without '#'. recurrence is none, daily, weekly or monthly; completing
  a recurring task creates its next occurrence.
- "What's left?" means pending tasks; "done" or "completed" means completed ones; for
  "what's due this week" mean the next 7 days: due_after the start of today and due_before the
  start of the same weekday next week, in the user's time zone.
- After changing something, confirm it in one short sentence with the task's title and the
  details that matter, e.g. "Added 'Buy milk' — due tomorrow, high priority." When listing,
  give each task's number, title, due date and priority on its own line.
- If a tool reports an error, say plainly what went wrong; don't pretend it worked.
- You cannot set reminders, alarms or notifications. When asked for one, do the rest of the
  request and say once, plainly, that you can't remind them (the due date shows in the list).
- You only manage tasks. For anything else, say briefly what you can do.
- Be brief. Plain text or a simple Markdown list.
"""


def describe_now(now: datetime) -> str:
    zone = now.tzname() or "UTC"
    return (
        f"Now it is {now:%A, %B} {now.day}, {now.year}, {now:%H:%M} {zone} "
        f"(ISO {now.isoformat(timespec='minutes')})."
    )


def describe_zone(zone: UserZone) -> str:
    if zone.known:
        return f"The user's time zone is {zone.name}: read and write every date and time in it."
    return (
        "The user's time zone is not known, so dates and times are in UTC: whenever your answer "
        "gives a date or a time, say that it is in UTC."
    )


def describe_visible(visible: Sequence[int] | None) -> str:
    if visible is None:
        return (
            'Places in the list ("the first task", "the last one") count the user\'s open '
            'tasks newest first: list_tasks with status "pending" and sort "created".'
        )
    if not visible:
        return 'The user\'s list shows no tasks: there is no "first task" to act on.'
    shown = ", ".join(f"#{number}" for number in visible)
    return (
        'Places in the list ("the first task", "the last one") count the tasks the user\'s '
        f"list shows, in this order: {shown}."
    )


def build_agent(
    *,
    model: Model,
    tools: Sequence[Tool],
    clock: Clock = utc_now,
    zone: UserZone = UTC_FALLBACK,
    visible: Sequence[int] | None = None,
) -> Agent[Any]:
    """The assistant, for a user in `zone` whose list shows the task numbers `visible`. Its
    `tools` are the app's MCP tools as the Agents SDK calls them (src.mcp.client), or
    stand-ins in unit tests."""

    def instructions(_context: RunContextWrapper[Any], _agent: Agent[Any]) -> str:
        return INSTRUCTIONS.format(
            now=describe_now(clock().astimezone(zone.tz)),
            zone=describe_zone(zone),
            visible=describe_visible(visible),
        )

    return Agent(
        name=AGENT_NAME,
        instructions=instructions,
        model=model,
        tools=list(tools),
        # Streamed Chat Completions report token usage only when asked; OpenAI's own endpoint
        # is asked by default, every other OpenAI-compatible server only with this.
        model_settings=ModelSettings(include_usage=True),
    )
