"""Liveness (the process answers) and readiness (the database is reachable and migrated)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from src.db.errors import is_database_outage
from src.db.migrations import current_revisions, expected_heads

router = APIRouter(tags=["health"])

READY_TIMEOUT_SECONDS = 3.0


class NotReady(BaseModel):
    status: str
    detail: str
    database: str
    migrations: str | None = None


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    responses={503: {"description": "Not ready; the body says why", "model": NotReady}},
)
async def ready(request: Request) -> JSONResponse:
    expected = expected_heads()
    # The check runs in a task of its own so the probe answers at its deadline even while the
    # check's own clean-up (closing a connection to a silent server) is still under way.
    check = asyncio.ensure_future(_schema_revisions(request.app.state.engine))
    done, _ = await asyncio.wait({check}, timeout=READY_TIMEOUT_SECONDS)
    if not done:
        check.cancel()
        check.add_done_callback(_discard_outcome)
        return _not_ready(
            f"database did not answer within {READY_TIMEOUT_SECONDS:g} s", database="unreachable"
        )
    try:
        current = check.result()
    except Exception as exc:
        if not is_database_outage(exc):
            raise
        return _not_ready(
            f"database unreachable ({type(exc).__name__})",
            database="unreachable",
        )
    if current != expected:
        found = ", ".join(sorted(current)) or "none"
        return _not_ready(
            f"database schema is at revision {found}, expected {', '.join(sorted(expected))}: "
            "run `alembic upgrade head`",
            database="ok",
            migrations="behind" if current else "not applied",
        )
    return JSONResponse({"status": "ready", "database": "ok", "migrations": "at head"})


async def _schema_revisions(engine: AsyncEngine) -> frozenset[str]:
    async with engine.connect() as connection:
        return await current_revisions(connection)


def _discard_outcome(task: asyncio.Future[frozenset[str]]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: the probe has answered already


def _not_ready(detail: str, **checks: str) -> JSONResponse:
    return JSONResponse(
        status_code=503, content={"status": "not ready", "detail": detail, **checks}
    )
