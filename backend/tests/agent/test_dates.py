"""The offline assistant's own date parser, against a fixed "now" (Tuesday 2026-11-24 15:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from src.agent.offline.dates import describe_due, parse_due

from .standins import NOW, at

DATES = [
    ("buy milk tomorrow", at(1), "buy milk"),
    ("call mom next friday", at(3), "call mom"),
    ("call mom on friday", at(3), "call mom"),
    ("standup tuesday", "2026-11-24T23:59:00+00:00", "standup"),  # today, 9am has passed
    ("standup next tuesday", at(7), "standup"),
    ("x today", "2026-11-24T23:59:00+00:00", "x"),
    ("x tonight", at(0, 20), "x"),
    ("x tomorrow morning", at(1, 9), "x"),
    ("x tomorrow evening", at(1, 19), "x"),
    ("x the day after tomorrow", at(2), "x"),
    ("dentist at 4pm", at(0, 16), "dentist"),
    ("dentist at 10am", at(1, 10), "dentist"),  # 10am has passed today
    ("dentist at 4", at(0, 16), "dentist"),
    ("meeting at 10:30 tomorrow", at(1, 10, 30), "meeting"),
    ("lunch at noon friday", at(3, 12), "lunch"),
    ("x in 3 days", at(3), "x"),
    ("x in a week", at(7), "x"),
    ("x in 2 hours", "2026-11-24T17:00:00+00:00", "x"),
    ("x in 30 minutes", "2026-11-24T15:30:00+00:00", "x"),
    ("x in one month", "2026-12-24T09:00:00+00:00", "x"),
    ("pay rent on dec 1", at(7), "pay rent"),
    ("pay rent by december 1st", at(7), "pay rent"),
    ("pay rent 1st of december", at(7), "pay rent"),
    ("x jan 3", "2027-01-03T09:00:00+00:00", "x"),  # January has passed this year
    ("x on the 5th", "2026-12-05T09:00:00+00:00", "x"),
    ("x due 2026-12-24", "2026-12-24T09:00:00+00:00", "x"),
    ("x 2026-12-24T18:30", "2026-12-24T18:30:00+00:00", "x"),
    ("x next week", at(6), "x"),
    ("x next month", "2026-12-01T09:00:00+00:00", "x"),
    ("x this weekend", at(4), "x"),
    ("x by the end of the month", "2026-11-30T09:00:00+00:00", "x"),
    ("x in 2 weeks at 5:15pm", "2026-12-08T17:15:00+00:00", "x"),
]


@pytest.mark.parametrize(("text", "due", "rest"), DATES, ids=[d[0] for d in DATES])
def test_parse_due(text: str, due: str, rest: str) -> None:
    found, remaining = parse_due(text, NOW)
    assert found is not None
    assert found.isoformat() == due
    assert remaining == rest


@pytest.mark.parametrize(
    "text", ["buy milk", "read chapter 3", "feb 30 party", "call mon", "task 12", "at home"]
)
def test_no_date(text: str) -> None:
    assert parse_due(text, NOW) == (None, text)


def test_dates_follow_the_clock_time_zone() -> None:
    tokyo = timezone(timedelta(hours=9))
    now = datetime(2026, 11, 24, 23, 30, tzinfo=UTC).astimezone(tokyo)  # the 25th in Tokyo
    due, _ = parse_due("x tomorrow", now)
    assert due is not None and due.isoformat() == "2026-11-26T09:00:00+09:00"


@pytest.mark.parametrize(
    ("due", "words"),
    [
        (at(0, 16), "today at 4pm"),
        (at(1), "tomorrow"),
        (at(3, 17, 30), "Friday at 5:30pm"),
        (at(7), "Tue, Dec 1"),
        ("2027-01-03T09:00:00+00:00", "Sun, Jan 3, 2027"),
        (at(-1), "yesterday"),
    ],
)
def test_describe_due(due: str, words: str) -> None:
    assert describe_due(datetime.fromisoformat(due), NOW) == words
