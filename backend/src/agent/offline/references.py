"""How a request points at a task: by its number ("task 3", "#3"), by its place in the list
the user sees ("the first one", "the last task"), or by words of its title ("the dentist thing")."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TaskRef:
    """How the user pointed at one task: by its number, by its place in the list they see, or
    by words of its title."""

    number: int | None = None
    position: int | None = None  # 0 the first, 1 the second, …; -1 the last
    words: str | None = None
    said: str | None = None  # the words as said, before "thing"/"stuff" was dropped
    every: bool = False  # "all of them": changes are made one task at a time


TASK_NOUN = r"(?:tasks?|todos?|to-dos?|items?|reminders?)"
_TASK_NOUN_PLAIN = r"(?:task|todo|to-do|item)"

ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
    "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "seventh": 6, "7th": 6, "eighth": 7, "8th": 7,
    "ninth": 8, "9th": 8, "tenth": 9, "10th": 9, "last": -1, "second last": -2,
    "second to last": -2, "penultimate": -2,
}  # fmt: skip
_ORDINAL = re.compile(
    r"(?:the\s+)?(?P<ordinal>"
    + "|".join(sorted(ORDINALS, key=len, reverse=True))
    + rf")(?:\s+(?:one|{_TASK_NOUN_PLAIN}))?(?:\s+(?:on|in)\s+(?:the|my)\s+list)?",
    re.IGNORECASE,
)
_FILLER_START = re.compile(r"^(?:the|my|a|an|that|this|task|todo|to-do|item)\s+", re.IGNORECASE)
# A reference never starts like a question: "what tasks are done" lists, it completes nothing.
QUESTION = re.compile(
    r"(?:what|which|how|who|when|where|why|show|list|any|anything|do|did|have|has|are|is)\b",
    re.IGNORECASE,
)
_EVERY_TASK = re.compile(
    r"(?:all|everything|every(?:thing| task| one)?|each one)(?: (?:of )?(?:my |the |them|these))?"
    rf"(?: ?{TASK_NOUN})?",
    re.IGNORECASE,
)
# "the dentist thing", "the tax stuff": words that point at a task without being in its title.
FILLER_END = re.compile(
    r"\s+(?:task|todo|to-do|item|one|reminder|thing|things|thingy|stuff)$", re.IGNORECASE
)


def parse_ref(text: str) -> TaskRef | None:
    """'task 3', '#3', '3' → by number; 'the first task', 'the last one' → by place in the
    list; 'the dentist task' → by the words 'dentist'."""
    text = text.strip().strip("\"'“”‘’").strip()
    if _EVERY_TASK.fullmatch(text):
        return TaskRef(every=True)
    number = re.fullmatch(
        rf"(?:(?:the\s+)?{TASK_NOUN}\s*)?(?:number\s+|no\.?\s*)?#?(\d+)", text, re.IGNORECASE
    )
    if number:
        return TaskRef(number=int(number.group(1)))
    ordinal = _ORDINAL.fullmatch(text)
    if ordinal:
        return TaskRef(position=ORDINALS[re.sub(r"\s+", " ", ordinal["ordinal"].lower())])
    said = text
    for _ in range(3):
        said = _FILLER_START.sub("", said)
    said = re.sub(r"^(?:called|named|titled)\s+", "", said, flags=re.IGNORECASE).strip()
    words = said
    for _ in range(2):
        words = FILLER_END.sub("", words)
    words = words.strip().strip("\"'“”‘’").strip()
    return TaskRef(words=words, said=said) if words else None
