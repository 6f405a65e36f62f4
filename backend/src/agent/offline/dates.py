"""Dates in plain English, relative to an injected "now" ("tomorrow", "next friday at 5pm").

Rules, so users (and tests) can predict the result:
- A date without a time means 09:00, or the end of that day when 09:00 has already passed today.
- A time without a date means today, or tomorrow when that time has already passed.
- A bare weekday ("friday", "on friday", "this friday") is the next one, today included;
  "next friday" is the next one after today.
- "next week" is next Monday, "next month" the 1st of next month, "this weekend" Saturday.
- Everything is computed in the time zone of "now" (the model hands in now in the user's zone).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

Clock = Callable[[], datetime]

DEFAULT_TIME = time(9, 0)
END_OF_DAY = time(23, 59)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTH_ABBREVIATIONS = {name[:3]: index + 1 for index, name in enumerate(MONTHS)} | {"sept": 9}
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3,
}  # fmt: skip
_PARTS_OF_DAY = {"morning": time(9, 0), "afternoon": time(15, 0), "evening": time(19, 0),
                 "night": time(20, 0), "tonight": time(20, 0)}  # fmt: skip


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Found:
    """A date and/or time found in a text, and the spans of text that said it."""

    day: date | None
    at: time | None
    spans: tuple[tuple[int, int], ...]
    exact: datetime | None = None  # "in 2 hours": a moment, not a day plus a time
    dated: bool = True  # False when only a time was said ("at 4pm") and `day` was inferred


def _month_number(word: str) -> int:
    return _MONTH_ABBREVIATIONS[word[:4] if word.startswith("sept") else word[:3]]


_WEEKDAY = r"(?P<weekday>" + "|".join(WEEKDAYS) + r")"
_MONTH = (
    r"(?P<month>"
    + "|".join(sorted({*MONTHS, *_MONTH_ABBREVIATIONS, "sept"}, key=len, reverse=True))
    + r")\.?"
)
_ORDINAL = r"(?P<dom>[0-3]?\d)(?:st|nd|rd|th)?"
_AMOUNT = r"(?P<amount>\d+|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
# A connector before a date belongs to it: "due friday", "by tomorrow", "on the 5th".
_LEAD = r"(?:\b(?:due|by|on|for|before|until|starting|from)\s+)?"

_DATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(_LEAD + pattern, re.IGNORECASE))
    for name, pattern in [
        ("iso", r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?:[t ](?P<hh>\d{2}):(?P<mm>\d{2}))?\b"),
        ("day_after", r"\b(?:the\s+)?day\s+after\s+tomorrow\b"),
        ("today", r"\b(?:today|tonight|this\s+(?P<part>morning|afternoon|evening))\b"),
        ("tomorrow", r"\b(?:tomorrow|tmrw|tmr)(?:\s+(?P<part>morning|afternoon|evening|night))?\b"),
        ("relative", r"\bin\s+" + _AMOUNT + r"\s+(?P<unit>minute|min|hour|hr|day|week|month)s?\b"),
        (
            "next_period",
            r"\b(?P<which>next|this|(?:the\s+)?end\s+of(?:\s+the)?)\s+(?P<period>week|month|weekend)\b",
        ),
        ("weekday", r"\b(?:(?P<which>next|this|coming|this\s+coming)\s+)?" + _WEEKDAY + r"\b"),
        ("month_day", r"\b" + _MONTH + r"\s+" + _ORDINAL + r"\b(?:,?\s+(?P<year>\d{4})\b)?"),
        (
            "day_month",
            r"\b" + _ORDINAL + r"\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+(?P<year>\d{4})\b)?",
        ),
        ("day_of_month", r"\bthe\s+(?P<dom>[0-3]?\d)(?:st|nd|rd|th)\b"),
    ]
]

_TIME_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in [
        (
            "ampm",
            r"(?:\b(?:at|@|by|around)\s*)?\b(?P<h>1[0-2]|0?[1-9])(?::(?P<m>[0-5]\d))?\s*"
            r"(?P<ampm>a\.?m\.?|p\.?m\.?)(?![a-z])",
        ),
        ("clock", r"(?:\b(?:at|@|by|around)\s*)?\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)\b"),
        ("at_hour", r"\b(?:at|@)\s*(?P<h>1[0-2]|0?[1-9])\b(?!\s*(?:days?|weeks?|months?|[%/.]))"),
        ("named", r"\b(?:at\s+)?(?P<name>noon|midday|midnight)\b"),
        ("part", r"\b(?:in\s+the\s+)?(?P<part>morning|afternoon|evening)\b"),
    ]
]


def find_when(text: str, now: datetime) -> Found | None:
    """The first date and the first time of day mentioned in `text`, if any."""
    day: date | None = None
    at: time | None = None
    exact: datetime | None = None
    spans: list[tuple[int, int]] = []
    today = now.date()

    for name, pattern in _DATE_PATTERNS:
        match = pattern.search(text)
        if match is None:
            continue
        resolved = _resolve_date(name, match, now)
        if resolved is None:
            continue
        day, at, exact = resolved
        spans.append(match.span())
        break

    if exact is None:
        masked = _mask(text, spans)
        for name, pattern in _TIME_PATTERNS:
            match = pattern.search(masked)
            if match is None:
                continue
            at = _resolve_time(name, match)
            spans.append(match.span())
            break

    if day is None and at is None and exact is None:
        return None
    dated = day is not None or exact is not None
    if not dated:
        assert at is not None
        day = today if datetime.combine(today, at, now.tzinfo) > now else today + timedelta(1)
    return Found(day=day, at=at, spans=tuple(sorted(spans)), exact=exact, dated=dated)


def due_from(found: Found, now: datetime) -> datetime:
    """The moment a found date/time means, by the rules in this module's docstring."""
    if found.exact is not None:
        return found.exact.replace(second=0, microsecond=0)
    assert found.day is not None
    if found.at is not None:
        return datetime.combine(found.day, found.at, now.tzinfo)
    when = datetime.combine(found.day, DEFAULT_TIME, now.tzinfo)
    if when <= now and found.day == now.date():
        when = datetime.combine(found.day, END_OF_DAY, now.tzinfo)
    return when


def parse_due(text: str, now: datetime) -> tuple[datetime | None, str]:
    """The due moment in `text` and the text with the words that said it removed."""
    found = find_when(text, now)
    if found is None:
        return None, text
    return due_from(found, now), remove_spans(text, found.spans)


def remove_spans(text: str, spans: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    return re.sub(r"\s{2,}", " ", text).strip()


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + "\0" * (end - start) + text[end:]
    return text


def _amount(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word.lower()]


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for dom in (day.day, 30, 29, 28):
        try:
            return date(year, month, dom)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _next_weekday(today: date, weekday: int, *, include_today: bool) -> date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and not include_today:
        ahead = 7
    return today + timedelta(ahead)


def _resolve_date(
    name: str, match: re.Match[str], now: datetime
) -> tuple[date | None, time | None, datetime | None] | None:
    today = now.date()
    groups = match.groupdict()
    part = _PARTS_OF_DAY.get((groups.get("part") or "").lower())
    if name == "iso":
        try:
            day = date(int(groups["y"]), int(groups["m"]), int(groups["d"]))
        except ValueError:
            return None
        at = time(int(groups["hh"]), int(groups["mm"])) if groups["hh"] else None
        return day, at, None
    if name == "day_after":
        return today + timedelta(2), None, None
    if name == "today":
        tonight = "tonight" in match.group(0).lower()
        return today, _PARTS_OF_DAY["tonight"] if tonight else part, None
    if name == "tomorrow":
        return today + timedelta(1), part, None
    if name == "relative":
        amount = _amount(groups["amount"])
        unit = groups["unit"].lower()
        if unit in ("minute", "min"):
            return None, None, now + timedelta(minutes=amount)
        if unit in ("hour", "hr"):
            return None, None, now + timedelta(hours=amount)
        if unit == "day":
            return today + timedelta(amount), None, None
        if unit == "week":
            return today + timedelta(weeks=amount), None, None
        return _add_months(today, amount), None, None
    if name == "next_period":
        which, period = groups["which"].lower(), groups["period"].lower()
        if period == "weekend":
            saturday = _next_weekday(today, 5, include_today=True)
            return (saturday + timedelta(7) if which == "next" else saturday), None, None
        if period == "week":
            if which == "next":
                return _next_weekday(today, 0, include_today=False), None, None
            return end_of_week(today), None, None
        if which == "next":
            return _add_months(today.replace(day=1), 1), None, None
        return _add_months(today.replace(day=1), 1) - timedelta(1), None, None
    if name == "weekday":
        weekday = WEEKDAYS.index(groups["weekday"].lower())
        include_today = (groups.get("which") or "").lower() != "next"
        return _next_weekday(today, weekday, include_today=include_today), None, None
    if name in ("month_day", "day_month"):
        month = _month_number(groups["month"].lower())
        year = int(groups["year"]) if groups.get("year") else today.year
        try:
            day = date(year, month, int(groups["dom"]))
        except ValueError:
            return None
        if not groups.get("year") and day < today:
            day = day.replace(year=year + 1)
        return day, None, None
    if name == "day_of_month":
        dom = int(groups["dom"])
        for months_ahead in range(3):
            candidate_month = _add_months(today.replace(day=1), months_ahead)
            try:
                day = candidate_month.replace(day=dom)
            except ValueError:
                continue
            if day >= today:
                return day, None, None
        return None
    raise AssertionError(f"unknown date pattern {name}")


def _resolve_time(name: str, match: re.Match[str]) -> time:
    groups = match.groupdict()
    if name == "ampm":
        hour = int(groups["h"]) % 12
        if groups["ampm"].lower().startswith("p"):
            hour += 12
        return time(hour, int(groups["m"] or 0))
    if name == "clock":
        return time(int(groups["h"]), int(groups["m"]))
    if name == "at_hour":
        hour = int(groups["h"])
        # "at 4" means 4pm for a to-do; "at 8" means 8am.
        return time(hour + 12 if hour < 8 else hour, 0)
    if name == "named":
        return {"noon": time(12), "midday": time(12), "midnight": END_OF_DAY}[
            groups["name"].lower()
        ]
    return _PARTS_OF_DAY[groups["part"].lower()]


def start_of_day(day: date, now: datetime) -> datetime:
    return datetime.combine(day, time(0), now.tzinfo)


def end_of_day(day: date, now: datetime) -> datetime:
    return datetime.combine(day, time(23, 59, 59), now.tzinfo)


def end_of_week(day: date) -> date:
    """The Sunday that ends `day`'s week (weeks run Monday to Sunday)."""
    return day + timedelta(6 - day.weekday())


def describe_day(day: date, today: date) -> str:
    """'today', 'tomorrow', 'Friday' in the week ahead, else 'Mon, Dec 1' (and the year if
    it is not this one)."""
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta == -1:
        return "yesterday"
    if 1 < delta < 7:
        return WEEKDAYS[day.weekday()].capitalize()
    weekday, month = WEEKDAYS[day.weekday()][:3], MONTHS[day.month - 1][:3]
    text = f"{weekday.capitalize()}, {month.capitalize()} {day.day}"
    return text if day.year == today.year else f"{text}, {day.year}"


def describe_time(moment: time) -> str:
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def describe_due(due: datetime, now: datetime) -> str:
    """How a due moment reads in a reply: 'tomorrow', 'Friday at 5pm', 'Mon, Dec 1'."""
    local = due.astimezone(now.tzinfo) if now.tzinfo is not None else due
    day = describe_day(local.date(), now.date())
    clock = local.timetz().replace(tzinfo=None, second=0, microsecond=0)
    if clock in (DEFAULT_TIME, END_OF_DAY):
        return day
    return f"{day} at {describe_time(clock)}"


def parse_iso(value: object) -> datetime | None:
    """A timestamp from a tool result ('2026-11-25T09:00:00Z' etc.), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
