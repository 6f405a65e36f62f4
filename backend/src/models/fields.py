"""Field types every way in shares (REST bodies and queries, chat messages, MCP arguments):
text PostgreSQL can store, and date-times that exist once converted to UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

# Pydantic reads a bare number as seconds since 1970; nobody writes a due date that way.
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def refuse_nul(value: str) -> str:
    """PostgreSQL text and JSON cannot hold the NUL character."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (\\u0000)")
    return value


def as_utc(value: datetime | None) -> datetime | None:
    """Times without a zone are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("lies outside the years 1–9999 once converted to UTC") from None


def reject_numbers(value: Any) -> Any:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be an ISO 8601 date-time such as 2030-01-02T09:00:00Z")
    return value


# For the OpenAPI schema: refuse_nul, stated as a pattern (its own message is kinder than a
# pattern mismatch, so the pattern is shown, not enforced twice).
NO_NUL = {"pattern": "^[^\\u0000]*$"}
Text = Annotated[str, AfterValidator(refuse_nul), Field(json_schema_extra=NO_NUL)]
# The same for text that is stripped and may not then be empty: something besides whitespace,
# spelled out as the characters str.strip() removes (JavaScript's \\s is another set).
_SPACE = (
    "\\t-\\r\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NOT_BLANK = {"pattern": f"^[^\\u0000]*[^\\u0000{_SPACE}][^\\u0000]*$"}
# ISO 8601 text, not a number; UTCMoment is the same moment in UTC (no offset = UTC).
DateTime = Annotated[datetime, BeforeValidator(reject_numbers)]
UTCMoment = Annotated[DateTime, AfterValidator(as_utc)]
