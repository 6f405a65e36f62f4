"""The words of a request made into task fields: hashtags and "tagged …" taken out as tags,
"high priority"/"urgent" as the priority, and what is left cleaned into a title."""

from __future__ import annotations

import re

from .dates import remove_spans

PRIORITY_WORDS = {"low": "low", "medium": "medium", "normal": "medium", "high": "high"}


def take_tags(text: str) -> tuple[str, list[str]]:
    tags = [tag.lower() for tag in re.findall(r"(?<![\w&])#([A-Za-z][\w-]*)", text)]
    text = re.sub(r"(?<![\w&])#[A-Za-z][\w-]*", " ", text)
    tagged = re.search(
        r"\b(?:tagged|with (?:the )?tags?|tag)\s+(?:as\s+)?"
        r"([\w-]+(?:(?:,\s*|\s+and\s+)[\w-]+)*)\s*$",
        text,
        re.IGNORECASE,
    )
    if tagged:
        tags += [t.lower() for t in re.split(r",\s*|\s+and\s+", tagged.group(1)) if t]
        text = text[: tagged.start()]
    return text, list(dict.fromkeys(tags))


def take_priority(text: str) -> tuple[str, str | None]:
    patterns = [
        (r"\b(?:with |at |as )?(?:a )?(?P<level>high|low|medium|normal)[- ]priority\b", None),
        (r"\b(?:with )?priority:?\s*(?P<level>high|low|medium|normal)\b", None),
        (r"\b(?:it's |it is |this is )?(?:urgent|important|asap|critical)\b", "high"),
        (r"!(?P<level>high|low|medium)\b", None),
    ]
    for pattern, fixed in patterns:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            level = fixed or PRIORITY_WORDS[match.group("level").lower()]
            return remove_spans(text, [match.span()]), level
    return text, None


def clean_title(text: str) -> str:
    text = strip_quotes(text.strip())
    text = re.sub(
        r"^(?:to|a task to|that i need to|that i have to)\s+", "", text, flags=re.IGNORECASE
    )
    # Connectors left dangling once dates, tags and priority are cut out.
    for _ in range(3):
        text = re.sub(r"(?:[\s,;:\-–—]+|\s+(?:and|with|at|on|by|due|for)\s*)$", "", text,
                      flags=re.IGNORECASE)  # fmt: skip
        text = re.sub(r"^[\s,;:\-–—]+", "", text)
    text = strip_quotes(text.strip())
    return text[:1].upper() + text[1:]


def strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in "\"'“" and text[-1] in "\"'”":
        return text[1:-1].strip()
    return text
