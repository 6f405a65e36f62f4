"""What /ready needs to know about the schema: the revision the code expects and the DB's."""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from src.core.settings import BACKEND_DIR

VERSIONS_DIR = BACKEND_DIR / "migrations" / "versions"


@lru_cache
def expected_heads(versions_dir: Path = VERSIONS_DIR) -> frozenset[str]:
    """The revisions no other revision builds on: what `alembic heads` prints, read from the
    scripts' `revision` and `down_revision` without importing Alembic (a fifth of a second of a
    replica's start-up, spent before it can answer its first readiness probe)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions_dir.glob("*.py"):
        values = _module_constants(path, {"revision", "down_revision"})
        if "revision" not in values:
            continue  # not a revision script
        revisions.add(values["revision"])
        down = values.get("down_revision")
        parents.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - parents)


def _module_constants(path: Path, names: set[str]) -> dict[str, object]:
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            found[target.id] = ast.literal_eval(value)
    return found


async def current_revisions(connection: AsyncConnection) -> frozenset[str]:
    """The revisions recorded in the database; empty when it was never migrated."""
    has_table = await connection.run_sync(
        lambda sync: sa.inspect(sync).has_table("alembic_version")
    )
    if not has_table:
        return frozenset()
    rows = await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
    return frozenset(row[0] for row in rows)
