"""The user's time zone for the work in hand: a chat turn and the tool calls it makes.

The chat binds it from the request's `X-Timezone` header (an IANA name); without one it is UTC,
and `known` is False so the assistant can say its dates are in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones


@dataclass(frozen=True)
class UserZone:
    tz: tzinfo
    name: str
    known: bool  # False: the user's zone was not sent, UTC stands in

    def localize(self, moment: datetime | None) -> datetime | None:
        """A time without an offset is read in this zone; one with an offset stays that moment."""
        if moment is None or moment.tzinfo is not None:
            return moment
        return moment.replace(tzinfo=self.tz)


UTC_FALLBACK = UserZone(tz=UTC, name="UTC", known=False)


class UnknownTimezone(ValueError):
    def __init__(self, name: str) -> None:
        shown = name if len(name) <= 64 else name[:61] + "…"
        super().__init__(
            f"unknown time zone {shown!r}: send an IANA name such as America/Los_Angeles"
        )


@lru_cache(maxsize=1)
def iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def user_zone(name: str | None) -> UserZone:
    """The zone an IANA name names; None or empty → UTC, stated as unknown."""
    if not name:
        return UTC_FALLBACK
    # Only names from the database: ZoneInfo would also open relative paths and odd files.
    if name not in iana_names():
        raise UnknownTimezone(name)
    return UserZone(tz=ZoneInfo(name), name=name, known=True)


_current: ContextVar[UserZone] = ContextVar("user_zone", default=UTC_FALLBACK)


def current_zone() -> UserZone:
    """The zone bound by `in_zone` around this work, else UTC (unknown)."""
    return _current.get()


@contextmanager
def in_zone(zone: UserZone) -> Iterator[None]:
    """Work done in this context (and in tasks it starts) reads and writes dates in `zone`."""
    reset = _current.set(zone)
    try:
        yield
    finally:
        _current.reset(reset)
