"""Liveness (the process answers) and readiness (the database is reachable and migrated)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from src.db.errors import is_database_outage
from src.db.migrations import current_revisions, expected_heads

router = APIRouter(tags=["health"])

READY_TIMEOUT_SECONDS = 3.0


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "Not ready; the body says why"}})
async def ready(request: Request) -> JSONResponse:
    expected = expected_heads()
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with request.app.state.engine.connect() as connection:
                current = await current_revisions(connection)
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


def _not_ready(detail: str, **checks: str) -> JSONResponse:
    return JSONResponse(
        status_code=503, content={"status": "not ready", "detail": detail, **checks}
    )
