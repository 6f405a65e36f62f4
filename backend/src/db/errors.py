"""Telling "the database is unreachable right now" apart from every other failure."""

from __future__ import annotations

import re

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


_TARGET = {
    "SELECT": re.compile(r"\bFROM\s+([\w.\"]+)", re.IGNORECASE),
    "INSERT": re.compile(r"^\s*INSERT\s+INTO\s+([\w.\"]+)", re.IGNORECASE),
    "UPDATE": re.compile(r"^\s*UPDATE\s+([\w.\"]+)", re.IGNORECASE),
    "DELETE": re.compile(r"^\s*DELETE\s+FROM\s+([\w.\"]+)", re.IGNORECASE),
}


def describe_failure(exc: BaseException) -> dict[str, str]:
    """What may be logged of a failure: its class, and for a database error the driver's class,
    the SQLSTATE and the statement's name (`INSERT task`), none of which carry user data."""
    fields = {"error": type(exc).__name__}
    if isinstance(exc, sa_exc.StatementError):
        if exc.orig is not None:
            driver_error = exc.orig.__cause__ or exc.orig
            fields["driver_error"] = type(driver_error).__name__
            state = getattr(exc.orig, "sqlstate", None)
            if isinstance(state, str):
                fields["sqlstate"] = state
        if exc.statement:
            fields["statement"] = statement_name(exc.statement)
    return fields


def statement_name(sql: str) -> str:
    """`INSERT task`, `SELECT task`: the kind of statement and the table it names first."""
    verb = sql.split(None, 1)[0].upper() if sql.strip() else "?"
    pattern = _TARGET.get(verb)
    found = pattern.search(sql) if pattern is not None else None
    return f"{verb} {found.group(1).strip(chr(34))}" if found else verb
