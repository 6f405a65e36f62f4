"""Telling "the database is unreachable right now" apart from every other failure."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

DATABASE_UNAVAILABLE = "database unavailable, try again shortly"

_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,  # no pool connection free in time
    ConnectionError,
    TimeoutError,  # no answer within the statement's or the connection attempt's deadline
)

# SQLSTATEs of a server that cannot serve right now, whatever the statement:
# 08 connection exceptions, 53 insufficient resources (too many connections, disk full),
# 57 operator intervention (statement_timeout, a shutdown or restart, still starting up),
# 55P03 lock_timeout, 40001/40P01 serialization failure and deadlock (retrying succeeds).
_UNAVAILABLE_CLASSES = ("08", "53", "57")
_UNAVAILABLE_STATES = {"55P03", "40001", "40P01"}


def is_database_outage(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        state = getattr(exc.orig, "sqlstate", None)
        if isinstance(state, str) and (
            state.startswith(_UNAVAILABLE_CLASSES) or state in _UNAVAILABLE_STATES
        ):
            return True
    return isinstance(exc, _CONNECTION_ERRORS) or (
        isinstance(exc, OSError) and exc.errno is not None
    )
