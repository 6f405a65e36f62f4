"""Common English to-do requests → what the user wants done (an `Intent`), without a model.

Each `_parse_*` function recognises one family of phrasings and returns an Intent or None;
`parse_request` tries them in order, most specific first ("change priority of task 2 to low"
must not read as a rename, "mark X as done" must not read as "add").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Literal

from .dates import (
    DEFAULT_TIME,
    WEEKDAYS,
    describe_day,
    due_from,
    end_of_day,
    end_of_week,
    find_when,
    parse_due,
    remove_spans,
    start_of_day,
)
from .references import FILLER_END, QUESTION, TASK_NOUN, TaskRef, parse_ref
from .reminders import asks_only_reminder, without_reminder
from .titles import PRIORITY_WORDS, clean_title, strip_quotes, take_priority, take_tags

Kind = Literal[
    "add", "list", "complete", "reopen", "delete", "update", "tag", "clear_completed",
    "greet", "help", "thanks", "reminder", "unknown",
]  # fmt: skip


@dataclass
class Intent:
    kind: Kind
    # add: add_task arguments; list: list_tasks arguments; update: the fields to change.
    args: dict[str, Any] = field(default_factory=dict)
    ref: TaskRef | None = None
    # Words for replies: what a list shows ("high priority tasks due this week"), or a caveat.
    scope: str = ""
    note: str = ""
    # The request also asked to be reminded ("… and remind me an hour before"), which no tool
    # can do: the reply says so.
    reminder: bool = False


def parse_request(text: str, now: datetime) -> Intent:
    message = _normalize(text)
    if asks_only_reminder(message):
        return Intent("reminder")
    message, reminder = without_reminder(message)
    intent = Intent("unknown")
    for parser in _PARSERS:
        parsed = parser(message, now)
        if parsed is not None:
            intent = parsed
            break
    intent.reminder = reminder
    return intent


_POLITE_START = re.compile(
    r"^(?:(?:please|pls|plz|can you|could you|would you|hey|hi|hello|ok|okay)[,!]?\s+)+",
    re.IGNORECASE,
)


def _normalize(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'")
    text = re.sub(r"\s+", " ", text).strip()
    text = _POLITE_START.sub("", text)
    return re.sub(r"(?:\s*(?:,?\s*please|[.!?]))+$", "", text, flags=re.IGNORECASE).strip()


def _match(pattern: str, text: str) -> re.Match[str] | None:
    return re.fullmatch(pattern, text, re.IGNORECASE)


# Conversation ---------------------------------------------------------------------------------


def _parse_small_talk(text: str, now: datetime) -> Intent | None:
    if not text or _match(r"help|\?|commands|what can you do|how does (?:this|it) work|"
                          r"what do you do|how do i use (?:this|you)|examples?", text):  # fmt: skip
        return Intent("help")
    if _match(r"(?:hi|hello|hey|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening))"
              r"(?: there)?(?:,? assistant)?", text):  # fmt: skip
        return Intent("greet")
    if _match(r"(?:thanks?|thank you|thx|ty|cheers|great|perfect|awesome|nice|cool|ok|okay)"
              r"(?: (?:a lot|so much|very much))?(?:,? (?:thanks?|thank you))?", text):  # fmt: skip
        return Intent("thanks")
    return None


# Changes to one task --------------------------------------------------------------------------


def _parse_clear_completed(text: str, now: datetime) -> Intent | None:
    if _match(
        rf"(?:clear|delete|remove|clean up|purge)(?: out)?(?: all)?(?: (?:of )?(?:the|my))?"
        rf" (?:completed|done|finished) {TASK_NOUN}",
        text,
    ) or _match(r"clear (?:out )?(?:the )?(?:completed|done|finished)(?: ones)?", text):
        return Intent("clear_completed")
    return None


def _parse_priority_change(text: str, now: datetime) -> Intent | None:
    level = r"(?P<level>low|medium|normal|high)"
    match = (
        _match(rf"(?:change|set|update|make|switch) (?:the )?priority (?:of|for|on) (?P<ref>.+?)"
               rf" (?:to|as) {level}(?: priority)?", text)
        or _match(rf"(?:change|set|update|make|switch|mark) (?P<ref>.+?)(?:'s)?(?: priority)?"
                  rf" (?:to |as )?{level}(?: priority| prio)", text)
        or _match(rf"(?:change|set|update|switch) (?P<ref>.+?)(?:'s)? priority"
                  rf" (?:to |as )?{level}", text)
        or _match(rf"(?P<ref>.+?) (?:is|should be) {level} priority", text)
    )  # fmt: skip
    if match:
        priority = PRIORITY_WORDS[match.group("level").lower()]
    else:
        match = _match(r"(?:prioriti[sz]e|escalate) (?P<ref>.+)", text)
        priority = "high"
        if not match:
            match = _match(r"(?:de-?prioriti[sz]e) (?P<ref>.+)", text)
            priority = "low"
    if not match or QUESTION.match(match.group("ref")):
        return None
    ref = parse_ref(match.group("ref"))
    return Intent("update", {"priority": priority}, ref) if ref else None


def _parse_rename(text: str, now: datetime) -> Intent | None:
    match = _match(
        r"(?:rename|retitle|change the (?:title|name) of"
        r"|change|update the title of|update) (?P<ref>.+?) (?:to|as|into) (?P<title>.+)",
        text,
    )
    if not match:
        return None
    ref = parse_ref(match.group("ref"))
    title = clean_title(match.group("title"))
    if not ref or not title:
        return None
    return Intent("update", {"title": title}, ref)


def _parse_note(text: str, now: datetime) -> Intent | None:
    match = _match(
        r"(?:add|put|set|write|attach)(?: (?:a|the))? (?:note|description|details)"
        r" (?:to|on|for|of) (?P<ref>.+?)\s*(?::|—|–| - | saying | that says ) *(?P<note>.+)",
        text,
    )
    if not match:
        return None
    ref = parse_ref(match.group("ref"))
    note = strip_quotes(match.group("note"))
    return Intent("update", {"description": note}, ref) if ref and note else None


_TAG_WORDS = r"#?[\w-]+(?:(?:,\s*|\s+and\s+|\s+)#?[\w-]+)*"
_HASH_TAGS = r"#[\w-]+(?:(?:,\s*|\s+and\s+|\s+)#[\w-]+)*"


def _tag_list(text: str) -> list[str]:
    return [t.lstrip("#").lower() for t in re.split(r",\s*|\s+and\s+|\s+", text) if t.strip("#")]


def _parse_tagging(text: str, now: datetime) -> Intent | None:
    """'tag buy milk with #errands', 'add #work to task 3', 'remove tag home from task 3'."""
    adding = _match(rf"tag (?P<ref>.+?) (?:with|as) (?P<tags>{_TAG_WORDS})", text) or _match(
        rf"add (?:the )?(?:tags? )?(?P<tags>{_TAG_WORDS}) (?:tags? )?to (?P<ref>.+)", text
    )
    removing = _match(
        rf"(?:remove|delete|drop) (?:the )?(?:tags? )?(?P<tags>{_TAG_WORDS})"
        r" (?:tags? )?from (?P<ref>.+)",
        text,
    ) or _match(rf"untag (?P<ref>.+?) (?P<tags>{_HASH_TAGS})", text)
    match = adding or removing
    if not match:
        return None
    # Only "#word" or an explicit "tag" makes this about tags ("add milk to my list" is not).
    if not (text.lower().startswith(("tag ", "untag ")) or "#" in match.group("tags") or
            re.search(r"\btags?\b", text, re.IGNORECASE)):  # fmt: skip
        return None
    ref = parse_ref(match.group("ref"))
    tags = _tag_list(match.group("tags"))
    if not ref or not tags:
        return None
    return Intent("tag", {"add": tags} if adding else {"remove": tags}, ref)


def _parse_reschedule(text: str, now: datetime) -> Intent | None:
    clear = _match(r"(?:remove|clear|delete|drop) (?:the )?(?:due date|deadline|date)"
                   r" (?:of|from|for|on) (?P<ref>.+)", text)  # fmt: skip
    if clear:
        ref = parse_ref(clear.group("ref"))
        # The MCP contract: update_task(due_at="") removes the due date (null means "unchanged").
        return Intent("update", {"due_at": ""}, ref) if ref else None
    match = _match(
        r"(?:move|reschedule|postpone|push(?: back)?|defer|delay|bump|shift|"
        r"(?:change|set|update) the (?:due date|deadline|date) (?:of|for|on))"
        r" (?P<ref>.+?) (?:to|until|till|for|by|on) (?P<when>.+)",
        text,
    )
    exact_date_only = False
    if not match:
        # "change task 3 to friday": a date and nothing else, or it is a rename.
        match = _match(r"(?:change|update|set) (?P<ref>.+?) (?:to|for) (?P<when>.+)", text)
        exact_date_only = True
    if not match or QUESTION.match(match.group("ref")):
        return None
    when = match.group("when")
    due, leftover = parse_due(when, now)
    ref = parse_ref(re.sub(r"\s+back$", "", match.group("ref"), flags=re.IGNORECASE))
    if due is None or ref is None or (exact_date_only and leftover):
        return None
    return Intent("update", {"due_at": due.isoformat() if due else None}, ref)


def _parse_recurrence_change(text: str, now: datetime) -> Intent | None:
    match = _match(r"(?:make|set|have) (?P<ref>.+?) (?:to )?(?:repeat|recur)(?: every)?"
                   r" (?P<rule>.+)", text)  # fmt: skip
    if not match:
        return None
    recurrence, note, _, _ = _find_recurrence("every " + match.group("rule"), now)
    ref = parse_ref(match.group("ref"))
    if recurrence is None or ref is None:
        return None
    return Intent("update", {"recurrence": recurrence}, ref, note=note)


def _parse_reopen(text: str, now: datetime) -> Intent | None:
    match = _match(
        r"(?:mark|set) (?P<ref>.+?) (?:as )?(?:not done|undone|incomplete|not complete(?:d)?|"
        r"pending|open|to ?do|not finished)",
        text,
    ) or _match(r"(?:reopen|re-open|uncomplete|un-complete|unmark|uncheck) (?P<ref>.+)", text)
    if not match or QUESTION.match(match.group("ref")):
        return None
    ref = parse_ref(match.group("ref"))
    return Intent("reopen", {"completed": False}, ref) if ref else None


def _parse_complete(text: str, now: datetime) -> Intent | None:
    match = (
        _match(r"(?:mark|set|check|tick) (?P<ref>.+?) (?:as )?(?:done|complete|completed|finished"
               r"|off)", text)
        or _match(r"(?:complete|finish|finished|check off|tick off|cross off|close|done with|"
                  r"i(?:'ve| have)? (?:finished|completed|done)|i did) (?P<ref>.+?)(?: now)?", text)
        or _match(r"(?P<ref>.+?) (?:is|are) (?:done|complete|completed|finished)", text)
        or _match(r"(?P<ref>(?:task )?#?\d+) (?:done|complete|completed|finished)", text)
    )  # fmt: skip
    if not match or QUESTION.match(match.group("ref")):
        return None
    ref = parse_ref(match.group("ref"))
    return Intent("complete", {}, ref) if ref else None


def _parse_delete(text: str, now: datetime) -> Intent | None:
    match = _match(r"(?:delete|remove|cancel|drop|erase|trash|discard|get rid of|forget(?: about)?)"
                   r" (?P<ref>.+?)(?: from (?:my|the) (?:list|tasks|todos?))?", text)  # fmt: skip
    if not match:
        return None
    ref = parse_ref(match.group("ref"))
    return Intent("delete", {}, ref) if ref else None


# Listing --------------------------------------------------------------------------------------

_LIST_START = re.compile(
    r"^(?:what(?:'s| is| are|'re)?|which|show|list|display|view|see|get|give|tell|any|anything|"
    r"do i have|have i|how many|search|find|look (?:for|up)|lookup|my|all|pending|open|"
    r"completed|finished|done|high|low|medium|overdue|tasks|todos?|to-dos?|whats)\b",
    re.IGNORECASE,
)
_LIST_SUBJECT = re.compile(
    r"\b(?:tasks?|todos?|to-dos?|list|left|remaining|due|overdue|pending|plate|agenda|"
    r"do i have|to do|completed|finished|done|have i|i did|priority|urgent|important|everything|"
    r"should i do|next)\b",
    re.IGNORECASE,
)


_DONE_WORDS = re.compile(r"\b(?:completed|finished|done|did i (?:do|finish|complete)|i did)\b")
_NOT_DONE_WORDS = re.compile(
    r"\bnot (?:yet )?(?:done|finished|completed)\b|\b(?:undone|unfinished|incomplete)\b|"
    r"\bto be (?:done|finished|completed)\b"
)


def _parse_list(text: str, now: datetime) -> Intent | None:
    search = _match(
        r"(?:search|find|look for|look up|lookup)(?: for)?(?: (?:my |the )?"
        rf"{TASK_NOUN}(?: (?:about|with|matching|containing|called|named))?)? (?P<q>.+)",
        text,
    )
    if search:
        q = strip_quotes(search.group("q"))
        q = FILLER_END.sub("", q).strip()
        return Intent("list", {"status": "all", "q": q}, scope=f"tasks matching '{q}'")
    if not (_LIST_START.search(text) and _LIST_SUBJECT.search(text)):
        return None
    if re.search(r"\b(?:add|create|remind)\b", text, re.IGNORECASE):
        return None  # "show me how to add a task" asks for phrasings, which "unknown" gives

    lowered = text.lower()
    args: dict[str, Any] = {"status": "pending"}
    words: list[str] = []
    if _DONE_WORDS.search(lowered) and not _NOT_DONE_WORDS.search(lowered):
        args["status"] = "completed"
    elif re.search(r"\b(?:all|every|everything)\b", lowered):
        args["status"] = "all"

    priority = re.search(
        r"\b(high|low|medium|normal)[- ]priority\b|\b(urgent|important)\b", lowered
    )
    if priority:
        args["priority"] = PRIORITY_WORDS.get(priority.group(1) or "", "high")
        words.append(f"{args['priority']} priority")

    tag = re.search(r"#([\w-]+)|\b(?:tagged|with (?:the )?tag|labell?ed)\s+#?([\w-]+)", lowered)
    if tag:
        args["tag"] = tag.group(1) or tag.group(2)

    due_words = _due_filter(lowered, now, args)
    status_word = {"pending": "pending", "completed": "completed", "all": ""}[args["status"]]
    scope = " ".join(filter(None, [*words, status_word, "tasks"]))
    if "tag" in args:
        scope += f" tagged #{args['tag']}"
    if due_words:
        scope += f" {due_words}"
    return Intent("list", args, scope=scope)


def _due_filter(lowered: str, now: datetime, args: dict[str, Any]) -> str:
    """Adds due_before/due_after for 'overdue', 'due today', 'this week'…; returns the words."""
    today = now.date()
    if re.search(r"\b(?:overdue|past due|late)\b", lowered):
        args["due_before"] = now.isoformat()
        args["status"] = "pending"
        return "that are overdue"
    if re.search(r"\b(?:this|the|coming) week\b|\bnext (?:7|seven) days\b", lowered):
        # As the list's "Next 7 days" filter: from the start of today to the same time a week on.
        args["due_after"] = start_of_day(today, now).isoformat()
        args["due_before"] = start_of_day(today + timedelta(7), now).isoformat()
        return "due in the next 7 days"
    if re.search(r"\bnext week\b", lowered):
        monday = end_of_week(today) + timedelta(1)
        args["due_after"] = start_of_day(monday, now).isoformat()
        args["due_before"] = end_of_day(end_of_week(monday), now).isoformat()
        return "due next week"
    if re.search(r"\b(?:today|tonight)\b", lowered):
        args["due_before"] = end_of_day(today, now).isoformat()
        return "due today"
    if "due" not in lowered and not re.search(r"\b(?:for|on)\b", lowered):
        return ""
    found = find_when(lowered, now)
    if found is None or found.day is None:
        return ""
    args["due_after"] = start_of_day(found.day, now).isoformat()
    args["due_before"] = end_of_day(found.day, now).isoformat()
    return f"due {describe_day(found.day, today)}"


# Adding ---------------------------------------------------------------------------------------

_RECURRENCE_PATTERNS: list[tuple[str, str, str]] = [
    # (pattern, recurrence, note for the reply)
    (r"\b(?:every|each) (?:weekday|work ?day|business day)s?\b|\bon weekdays\b|\bweekdays\b",
     "daily", "weekday"),
    (r"\b(?:every|each) ?day\b|\bdaily\b|\bevery morning\b|\bevery evening\b|\bevery night\b",
     "daily", ""),
    (r"\b(?:every|each) (?P<weekday>" + "|".join(WEEKDAYS) + r")\b|\bon (?P<weekdays>"
     + "|".join(WEEKDAYS) + r")s\b", "weekly", ""),
    (r"\b(?:every|each) week\b|\bweekly\b|\bonce a week\b", "weekly", ""),
    (r"\b(?:every|each) month\b|\bmonthly\b|\bonce a month\b", "monthly", ""),
]  # fmt: skip


def _find_recurrence(text: str, now: datetime) -> tuple[str | None, str, str, str | None]:
    """(recurrence, note, text without it, weekday to start on) for 'every monday' etc."""
    for pattern, recurrence, note in _RECURRENCE_PATTERNS:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            groups = match.groupdict()
            weekday = groups.get("weekday") or groups.get("weekdays")
            return recurrence, note, remove_spans(text, [match.span()]), weekday
    return None, "", text, None


def _parse_add(text: str, now: datetime) -> Intent | None:
    match = (
        _match(rf"(?:add|create|new|make|put|schedule|set up|note)(?: me)?(?: (?:a|an|another))?"
               rf"(?: new)?(?: {TASK_NOUN})?(?: to| for| called| named|:)? (?P<rest>.+?)"
               rf"(?: to (?:my|the)(?: [\w-]+)? (?:list|tasks|todos?|to-do list|todo list))?", text)
        or _match(r"remind me (?:to |about |of )?(?P<rest>.+)", text)
        or _match(rf"(?:{TASK_NOUN}|new)\s*:\s*(?P<rest>.+)", text)
        or _match(r"(?:i )?(?:need|have|must|should|gotta|got) to (?P<rest>.+)", text)
        or _match(r"don't forget (?:to )?(?P<rest>.+)", text)
        or _match(r"(?P<rest>(?:every|each|daily|weekly|monthly)\b.+)", text)
    )  # fmt: skip
    if not match:
        return None
    rest = match.group("rest")
    args: dict[str, Any] = {}
    recurrence, note, rest, weekday = _find_recurrence(rest, now)
    if recurrence is not None:
        args["recurrence"] = recurrence

    rest, tags = take_tags(rest)
    rest, priority = take_priority(rest)
    found = find_when(rest, now)
    due: datetime | None = None
    if found is not None:
        rest = remove_spans(rest, found.spans)
        due = due_from(found, now)
    if recurrence is not None and (found is None or not found.dated):
        # "every monday at 7am": the first Monday, at 7.
        due = _first_occurrence(now, note, weekday, found.at if found else None)
    title = clean_title(rest)
    if not title:
        return None
    args = {"title": title, **args}
    if priority:
        args["priority"] = priority
    if tags:
        args["tags"] = tags
    if due is not None:
        args["due_at"] = due.isoformat()
    return Intent("add", _ordered(args), note=note)


def _first_occurrence(now: datetime, note: str, weekday: str | None, at: time | None) -> datetime:
    """The first due moment of a recurring task given without a date: the next one that fits
    (at 09:00 unless a time was said)."""
    day = now.date()
    for _ in range(8):
        candidate = datetime.combine(day, at or DEFAULT_TIME, now.tzinfo)
        fits = (weekday is None or WEEKDAYS.index(weekday.lower()) == day.weekday()) and (
            note != "weekday" or day.weekday() < 5
        )
        if fits and candidate > now:
            return candidate
        day += timedelta(1)
    raise AssertionError("unreachable")


def _ordered(args: dict[str, Any]) -> dict[str, Any]:
    order = ["title", "description", "priority", "tags", "due_at", "recurrence"]
    return {key: args[key] for key in order if key in args}


_PARSERS = [
    _parse_small_talk,
    _parse_clear_completed,
    _parse_note,
    _parse_tagging,
    _parse_priority_change,
    _parse_reschedule,
    _parse_recurrence_change,
    _parse_rename,
    _parse_reopen,
    _parse_complete,
    _parse_delete,
    _parse_add,
    _parse_list,
]
