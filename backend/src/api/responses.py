"""The error answers of the `/api` routes, for the OpenAPI schema. Each is JSON: `detail` is a
sentence, or for a 422 the fields at fault (src/api/errors.py writes them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from src.api.gate import BODY_MAX


class ErrorDetail(BaseModel):
    detail: str


class FieldError(BaseModel):
    loc: list[str | int]
    field: str
    msg: str
    type: str


class ValidationFailed(BaseModel):
    detail: list[FieldError]


def _error(description: str, model: type[BaseModel] = ErrorDetail) -> dict[str, Any]:
    return {"model": model, "description": description}


# Every `/api` route: the token is checked before anything else, then the path's user; the
# token's keys and the database may be out of reach.
AUTHENTICATED: dict[int | str, dict[str, Any]] = {
    401: _error("No valid bearer token (checked before the body is read)"),
    403: _error("`user_id` in the path is not the signed-in user"),
    422: _error("A parameter or the body is invalid: `detail` lists each field", ValidationFailed),
    503: _error("The database or the auth server's keys are out of reach; see Retry-After"),
}
# Routes that read a JSON body.
WITH_BODY: dict[int | str, dict[str, Any]] = {
    400: _error("The body could not be decoded (e.g. not UTF-8)"),
    413: _error(f"The body is larger than {BODY_MAX // 1024 // 1024} MiB"),
}


def not_found(what: str) -> dict[int | str, dict[str, Any]]:
    return {404: _error(f"No such {what} for this user")}
