"""Telling "the database is unreachable right now" apart from every other failure."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

DATABASE_UNAVAILABLE = "database unavailable, try again shortly"

_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,  # no pool connection free in time
    ConnectionError,
    TimeoutError,
)


def is_database_outage(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _CONNECTION_ERRORS) or (
        isinstance(exc, OSError) and exc.errno is not None
    )
