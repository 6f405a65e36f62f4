"""Decides the offline assistant's next step: which tool calls to make, or what to answer.

It is called once per model call with the whole turn so far, like a real model: first it
calls tools (finding a task by its words with list_tasks before acting on it), then, once the
results are in, it answers in words built from them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import replies
from .intents import Intent, parse_request
from .references import TaskRef, parse_ref
from .transcript import Exchange, Transcript


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass
class Step:
    calls: list[ToolCall] = field(default_factory=list)
    reply: str | None = None
    dated: bool = False  # the reply gives a date or a time
    question: bool = False  # the reply asks which task was meant; the answer finishes the turn


def _say(text: str, *, dated: bool = False) -> Step:
    return Step(reply=text, dated=dated)


def _due(*tasks: Any) -> bool:
    """Whether any of these tasks has a due date (which the reply then gives)."""
    return any(isinstance(task, Mapping) and task.get("due_at") for task in tasks)


def _call(name: str, **arguments: Any) -> Step:
    return Step(calls=[ToolCall(name, arguments)])


# What each change to one task calls, how replies name it, and the state it expects the task in.
_ON_TASK = {
    "complete": ("complete_task", "complete", "pending"),
    "reopen": ("update_task", "reopen", "completed"),
    "delete": ("delete_task", "delete", None),
    "update": ("update_task", "update", None),
    "tag": ("update_task", "tag", None),
}
_STOP_WORDS = {"the", "a", "an", "my", "to", "of", "for", "and", "with", "on", "at", "in"}


def next_step(transcript: Transcript, now: datetime, visible: Sequence[int] | None = None) -> Step:
    """The next step of the turn. `visible`: the task numbers the user's list shows, in order
    (what "the first task" counts over); None when the request did not say."""
    intent = understand(transcript, now)
    step = _step(intent, transcript, now, visible)
    if intent.reminder and step.reply is not None and not step.question:
        # Said once, in the reply that ends the request (not in a "which one?" question).
        step.reply = replies.with_no_reminders(step.reply)
    return step


def _step(
    intent: Intent, transcript: Transcript, now: datetime, visible: Sequence[int] | None
) -> Step:
    exchanges = transcript.exchanges
    if intent.kind == "reminder":
        return _say(replies.no_reminders_only())
    if intent.kind == "greet":
        return _say(replies.greeting())
    if intent.kind == "help":
        return _say(replies.help_text())
    if intent.kind == "thanks":
        return _say(replies.thanks())
    if intent.kind == "add":
        if not exchanges:
            return _call("add_task", **intent.args)
        done = exchanges[-1]
        if done.error:
            return _say(replies.failed("add", f"'{intent.args.get('title')}'", done.error))
        added = {**intent.args, **(done.result if isinstance(done.result, Mapping) else {})}
        reply = replies.added(done.result, intent.args, now, note=intent.note)
        return _say(reply, dated=_due(added))
    if intent.kind == "list":
        if not exchanges:
            return _call("list_tasks", **intent.args)
        done = exchanges[-1]
        if done.error:
            return _say(replies.failed("list", "your tasks", done.error))
        tasks = _tasks(done.result)
        return _say(
            replies.listing(tasks, intent.scope, intent.args["status"], now),
            dated=_due(*tasks[: replies.MAX_LISTED]),
        )
    if intent.kind == "clear_completed":
        return _clear_completed(exchanges)
    if intent.kind in _ON_TASK and intent.ref is not None:
        if intent.ref.every:
            return _say(replies.one_at_a_time())
        return _on_task(intent, intent.ref, exchanges, now, visible)
    return _say(replies.not_understood(transcript.message))


def understand(transcript: Transcript, now: datetime) -> Intent:
    """The user's intent, reading a bare "task 3" / "the second one" as the answer to our
    previous "which one do you mean?" question."""
    intent = parse_request(transcript.message, now)
    if intent.kind != "unknown" or not transcript.previous_user:
        return intent
    if "which one do you mean" not in (transcript.previous_assistant or ""):
        return intent
    offered = [
        int(n) for n in re.findall(r"^- (?:✓ )?#(\d+)", transcript.previous_assistant or "", re.M)
    ]
    chosen = _choice(transcript.message, offered)
    earlier = parse_request(transcript.previous_user, now)
    if chosen is None or earlier.ref is None:
        return intent
    earlier.ref = TaskRef(number=chosen)
    return earlier


def _choice(message: str, offered: Sequence[int]) -> int | None:
    """The number an answer to "which one?" picks: "the second one" of those offered, or one
    given by number."""
    ref = parse_ref(message.strip().rstrip(".!?"))
    if ref is None:
        return None
    if ref.position is not None:
        return _at(offered, ref.position)
    return ref.number


def _at(numbers: Sequence[int], position: int) -> int | None:
    index = position if position >= 0 else len(numbers) + position
    return numbers[index] if 0 <= index < len(numbers) else None


def _by_position(
    position: int, visible: Sequence[int] | None, lookups: list[Exchange]
) -> int | Step:
    """The number of the task at `position` in the list the user sees: the numbers the request
    gave, else their open tasks in the list's default order (newest first)."""
    numbers: Sequence[int]
    if visible is not None:
        numbers = visible
    elif not lookups:
        return _call("list_tasks", status="pending", sort="created")
    elif lookups[0].error:
        return _say(replies.failed("look up", "your tasks", lookups[0].error))
    else:
        numbers = [int(t["number"]) for t in _tasks(lookups[0].result) if t.get("number")]
    number = _at(numbers, position)
    if number is None:
        return _say(replies.no_position(position, len(numbers), shown=visible is not None))
    return number


def _on_task(
    intent: Intent,
    ref: TaskRef,
    exchanges: list[Exchange],
    now: datetime,
    visible: Sequence[int] | None,
) -> Step:
    tool, verb, wanted = _ON_TASK[intent.kind]
    lookups = [e for e in exchanges if e.name == "list_tasks"]
    if ref.position is not None:
        chosen = _by_position(ref.position, visible, lookups)
        if isinstance(chosen, Step):
            return chosen
        ref = TaskRef(number=chosen)
    task: Mapping[str, Any] | None = None
    number: Any = ref.number
    if ref.number is None or intent.kind == "tag":
        # By words it must be found first; to tag, its current tags are needed too
        # (update_task replaces them all).
        found = (
            _find(ref, wanted, lookups, now)
            if ref.number is None
            else _find_by_number(ref.number, lookups)
        )
        if isinstance(found, Step):
            return found
        task, number = found, found.get("number")

    acted = [e for e in exchanges if e.name == tool]
    if not acted:
        if intent.kind == "tag":
            return _call(tool, number=number, tags=_retagged(task or {}, intent.args))
        arguments = (
            {"number": number, **intent.args} if tool == "update_task" else {"number": number}
        )
        return _call(tool, **arguments)
    done = acted[-1]
    target = f"'{task.get('title')}'" if task else f"task {number}"
    if done.error:
        return _say(replies.failed(verb, target, done.error))
    if intent.kind == "complete":
        following = done.result.get("next_occurrence") if isinstance(done.result, Mapping) else None
        return _say(replies.completed(done.result, task, number, now), dated=_due(following))
    if intent.kind == "delete":
        return _say(replies.deleted(done.result, task, number))
    if intent.kind == "tag":
        return _say(replies.retagged(done.result, intent.args))
    return _say(
        replies.updated(done.result, task, number, intent.args, now, note=intent.note),
        dated=bool(intent.args.get("due_at")),
    )


def _retagged(task: Mapping[str, Any], change: Mapping[str, list[str]]) -> list[str]:
    current = [str(tag) for tag in task.get("tags") or []]
    removed = set(change.get("remove", []))
    kept = [tag for tag in current if tag not in removed]
    return kept + [tag for tag in change.get("add", []) if tag not in kept]


def _find_by_number(number: int, lookups: list[Exchange]) -> Mapping[str, Any] | Step:
    if not lookups:
        return _call("list_tasks", status="all")
    if lookups[-1].error:
        return _say(replies.failed("look up", f"task {number}", lookups[-1].error))
    for task in _tasks(lookups[-1].result):
        if task.get("number") == number:
            return task
    return _say(replies.no_task(number))


def _find(
    ref: TaskRef, wanted: str | None, lookups: list[Exchange], now: datetime
) -> Mapping[str, Any] | Step:
    """The one task `ref` names by words: search by the phrase, then by its longest word if the
    phrase matched nothing; ask which one when several fit, or when only that word fits."""
    words = ref.words or ""
    if not lookups:
        return _call("list_tasks", q=words, status="all")
    last = lookups[-1]
    if last.error:
        return _say(replies.failed("look up", f"'{words}'", last.error))
    tasks = _tasks(last.result)
    significant = [w for w in re.findall(r"[\w'-]+", words.lower()) if w not in _STOP_WORDS]
    if len(lookups) == 1 and not tasks and significant:
        longest = max(significant, key=len)
        if longest != words.lower():
            return _call("list_tasks", q=longest, status="all")
    partial = False
    if len(lookups) > 1:
        whole = [t for t in tasks if all(w in _haystack(t) for w in significant)]
        # Tasks holding only the longest word may still be the one meant: offer them.
        partial = not whole
        tasks = whole or tasks

    said = {words.lower(), (ref.said or words).lower()}
    exact = [t for t in tasks if str(t.get("title", "")).lower() in said]
    pool = exact or tasks
    if wanted is not None:
        fitting = [t for t in pool if bool(t.get("completed")) == (wanted == "completed")]
        if not fitting and len(pool) == 1 and not partial:
            return _say(replies.already(pool[0], "done" if wanted == "pending" else "pending"))
        pool = fitting
    elif len(pool) > 1:
        pending = [t for t in pool if not t.get("completed")]
        pool = pending if len(pending) == 1 else pool
    if not pool:
        return _say(replies.no_match(words, wanted or "any"))
    if partial:
        closest = str(last.arguments.get("q") or "")
        return _ask(replies.closest(pool, words, closest, now), pool)
    if len(pool) > 1:
        return _ask(replies.which_one(pool, words, now), pool)
    return pool[0]


def _ask(question: str, offered: Sequence[Mapping[str, Any]]) -> Step:
    return Step(reply=question, dated=_due(*offered[: replies.MAX_LISTED]), question=True)


def _clear_completed(exchanges: list[Exchange]) -> Step:
    if not exchanges:
        return _call("list_tasks", status="completed")
    listed = exchanges[0]
    if listed.error:
        return _say(replies.failed("list", "your completed tasks", listed.error))
    tasks = _tasks(listed.result)
    deletions = exchanges[1:]
    if tasks and not deletions:
        return Step(calls=[ToolCall("delete_task", {"number": t.get("number")}) for t in tasks])
    titles = {t.get("number"): str(t.get("title")) for t in tasks}
    done = [f"'{titles.get(e.arguments.get('number'))}'" for e in deletions if not e.error]
    failures = [f"#{e.arguments.get('number')}: {e.error}" for e in deletions if e.error]
    return _say(replies.cleared(done, failures))


def _tasks(result: Any) -> list[Mapping[str, Any]]:
    if isinstance(result, Mapping):
        result = result.get("items") or result.get("tasks") or []
    if not isinstance(result, Sequence) or isinstance(result, str):
        return []
    return [task for task in result if isinstance(task, Mapping)]


def _haystack(task: Mapping[str, Any]) -> str:
    return f"{task.get('title') or ''} {task.get('description') or ''}".lower()
