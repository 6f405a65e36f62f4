"""The offline assistant's words: built from tool results, never from guesses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .dates import describe_due, parse_iso

EXAMPLES = (
    "“add buy milk tomorrow, high priority #home”",
    "“remind me to call mom next friday at 5pm”",
    "“what's left?” or “what's due this week?”",
    "“mark buy milk as done” or “complete task 3”",
    "“move buy milk to next monday” or “change priority of task 2 to low”",
    "“rename the dentist task to dentist at 4pm”",
    "“delete task 3” (the number the list shows) or “complete the first task”",
)

MAX_LISTED = 25


def _examples() -> str:
    return "\n".join(f"- {example}" for example in EXAMPLES)


def greeting() -> str:
    return (
        "Hi! I keep your to-do list. Tell me what to add, change or show — for example:\n"
        f"{_examples()}"
    )


def help_text() -> str:
    return (
        "I can add, list, complete, reschedule, rename and delete your tasks. "
        "Refer to a task by its number in your list (“task 3” or “#3”), by its place in the "
        "list (“the first task”, “the second one”, “the last task”) or by words of its title. "
        "Try:\n"
        f"{_examples()}"
    )


def in_utc(reply: str) -> str:
    """A reply with dates, when the user's time zone is not known."""
    return _then(reply, "(Dates and times are in UTC: your time zone wasn't sent.)")


def _then(reply: str, sentence: str) -> str:
    """`sentence` after `reply`: on its own line after a list, else after a space."""
    return f"{reply}\n{sentence}" if "\n" in reply else f"{reply} {sentence}"


def thanks() -> str:
    return "You're welcome! Anything else on your list?"


def not_understood(message: str) -> str:
    quoted = message if len(message) <= 80 else message[:77] + "…"
    return (
        "I'm the offline assistant (no API key is configured), so I only understand simple "
        f"requests, and I didn't understand “{quoted}”. Try one of these:\n{_examples()}"
    )


def one_at_a_time() -> str:
    return (
        "I change one task at a time: name it by its number (“complete task 3”) or by words of "
        "its title (“mark buy milk as done”). To remove every finished task, say “clear "
        "completed tasks”."
    )


def task_details(task: Mapping[str, Any], now: datetime, *, note: str = "") -> list[str]:
    """The parts worth saying about a task: due date, priority, tags, repeat."""
    parts: list[str] = []
    due = parse_iso(task.get("due_at"))
    if due is not None:
        overdue = due < now and not task.get("completed")
        parts.append(f"due {describe_due(due, now)}" + (" (overdue)" if overdue else ""))
    priority = task.get("priority")
    if priority in ("high", "low"):
        parts.append(f"{priority} priority")
    tags = task.get("tags") or []
    if isinstance(tags, Sequence) and not isinstance(tags, str) and tags:
        parts.append(" ".join(f"#{tag}" for tag in tags))
    recurrence = task.get("recurrence")
    if recurrence in ("daily", "weekly", "monthly"):
        if note == "weekday" and recurrence == "daily":
            parts.append("repeats daily (there is no weekdays-only repeat, so weekends count too)")
        else:
            parts.append(f"repeats {recurrence}")
    return parts


def _title(result: Any, fallback: Mapping[str, Any] | None = None, task_id: Any = None) -> str:
    for source in (result, fallback or {}):
        if isinstance(source, Mapping) and source.get("title"):
            return f"'{source['title']}'"
    return f"task {task_id}" if task_id is not None else "the task"


def added(result: Any, args: Mapping[str, Any], now: datetime, *, note: str = "") -> str:
    task = {**args, **(result if isinstance(result, Mapping) else {})}
    details = task_details(task, now, note=note)
    return f"Added {_title(task)}" + (f" — {', '.join(details)}." if details else ".")


def completed(result: Any, task: Mapping[str, Any] | None, task_id: Any, now: datetime) -> str:
    text = f"Marked {_title(result, task, task_id)} as done."
    next_due = None
    if isinstance(result, Mapping):
        following = result.get("next_task") or result.get("next_occurrence") or result.get("next")
        next_due = parse_iso(
            following.get("due_at") if isinstance(following, Mapping) else result.get("next_due_at")
        )
    if next_due is not None:
        text += f" The next one is due {describe_due(next_due, now)}."
    return text


def deleted(result: Any, task: Mapping[str, Any] | None, task_id: Any) -> str:
    return f"Deleted {_title(result, task, task_id)}."


def updated(
    result: Any,
    task: Mapping[str, Any] | None,
    task_id: Any,
    changes: Mapping[str, Any],
    now: datetime,
    *,
    note: str = "",
) -> str:
    new_title = _title(result, changes, task_id)
    old_title = _title(task, None, task_id) if task else f"task {task_id}"
    sentences: list[str] = []
    if "title" in changes:
        sentences.append(f"Renamed {old_title} to {new_title}.")
    if "description" in changes:
        sentences.append(f"Added the note to {new_title}.")
    if changes.get("completed") is False:
        sentences.append(f"Reopened {new_title}: it's pending again.")
    if "priority" in changes:
        sentences.append(f"{new_title} is now {changes['priority']} priority.")
    if "due_at" in changes:
        due = parse_iso(changes["due_at"])
        sentences.append(
            f"Moved {new_title} to {describe_due(due, now)}."
            if due is not None
            else f"Removed the due date from {new_title}."
        )
    if "recurrence" in changes:
        repeat = task_details({"recurrence": changes["recurrence"]}, now, note=note)
        sentences.append(
            f"{new_title} now {repeat[0]}." if repeat else f"{new_title} no longer repeats."
        )
    return " ".join(sentences) or f"Updated {new_title}."


def listing(tasks: Sequence[Mapping[str, Any]], scope: str, status: str, now: datetime) -> str:
    if not tasks:
        if status == "all" and scope == "tasks":
            return "You have no tasks yet. Try “add buy milk tomorrow”."
        if scope.startswith("tasks matching"):
            return f"No {scope}."
        return f"You have no {scope}."
    count = len(tasks)
    noun = scope if count != 1 else scope.replace("tasks", "task", 1)
    heading = f"Here {'are' if count != 1 else 'is'} your {noun} ({count}):"
    if status == "all" and scope == "tasks":
        heading = f"Here are all your tasks ({count}):"
    lines = [heading, *(_line(task, now) for task in tasks[:MAX_LISTED])]
    if count > MAX_LISTED:
        lines.append(f"…and {count - MAX_LISTED} more.")
    return "\n".join(lines)


def _line(task: Mapping[str, Any], now: datetime) -> str:
    mark = "✓ " if task.get("completed") else ""
    details = task_details(task, now)
    return f"- {mark}#{task.get('number')} {task.get('title')}" + (
        f" — {', '.join(details)}" if details else ""
    )


def which_one(tasks: Sequence[Mapping[str, Any]], words: str, now: datetime) -> str:
    return _which(f"{len(tasks)} tasks match '{words}'", tasks, now)


def closest(tasks: Sequence[Mapping[str, Any]], words: str, word: str, now: datetime) -> str:
    """No task holds every word of `words`; these hold `word`, the longest of them."""
    count = f"{len(tasks)} task{' matches' if len(tasks) == 1 else 's match'}"
    return _which(f"No task matches '{words}', but {count} '{word}'", tasks, now)


def _which(heading: str, tasks: Sequence[Mapping[str, Any]], now: datetime) -> str:
    lines = [f"{heading} — which one do you mean?", *(_line(t, now) for t in tasks[:MAX_LISTED])]
    lines.append(f"Reply with its number, e.g. “task {tasks[0].get('number')}”.")
    return "\n".join(lines)


NO_REMINDERS = "I can't set reminders, so nothing will notify you; the due date shows in your list."


def with_no_reminders(reply: str) -> str:
    """A reply to a request that also asked to be reminded."""
    return _then(reply, NO_REMINDERS)


def no_reminders_only() -> str:
    return (
        "I can't set reminders, so nothing will notify you, but I can give a task a due date "
        "that shows in your list: try “move buy milk to friday at 3pm”."
    )


def no_match(words: str, wanted: str) -> str:
    wanted_words = {"pending": "pending task", "completed": "completed task"}.get(wanted, "task")
    return (
        f"I couldn't find a {wanted_words} matching '{words}'. "
        "Say “what's left?” to see your tasks."
    )


def retagged(result: Any, change: Mapping[str, list[str]]) -> str:
    title = _title(result)
    tags = result.get("tags") if isinstance(result, Mapping) else None
    sentences = []
    if change.get("add"):
        sentences.append(f"Tagged {title} {' '.join(f'#{t}' for t in change['add'])}.")
    if change.get("remove"):
        sentences.append(f"Removed {' '.join(f'#{t}' for t in change['remove'])} from {title}.")
    if isinstance(tags, Sequence) and not isinstance(tags, str):
        sentences.append(f"Its tags: {' '.join(f'#{t}' for t in tags) or 'none'}.")
    return " ".join(sentences)


def no_task(number: int) -> str:
    return f"I couldn't find task {number}. Say “what's left?” to see your tasks."


def no_position(position: int, count: int, *, shown: bool) -> str:
    """An ordinal past the end of the list ("the fifth task" of three)."""
    tasks = f"{count} task{'' if count == 1 else 's'}" if count else "no tasks"
    where = f"your list shows {tasks}" if shown else f"you have {tasks} open"
    return f"There is no {_ordinal(position)} task: {where}."


def _ordinal(position: int) -> str:
    if position < 0:
        return "last" if position == -1 else "second to last"
    n = position + 1
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def already(task: Mapping[str, Any], state: str) -> str:
    return f"'{task.get('title')}' is already {state}."


def failed(action: str, target: str, error: str) -> str:
    return f"I couldn't {action} {target}: {error.rstrip('.')}."


def cleared(titles: Sequence[str], failures: Sequence[str]) -> str:
    if not titles and not failures:
        return "You have no completed tasks to clear."
    text = f"Deleted {len(titles)} completed task{'s' if len(titles) != 1 else ''}"
    text += f": {', '.join(titles)}." if titles else "."
    if failures:
        text += f" {len(failures)} could not be deleted ({'; '.join(failures)})."
    return text
