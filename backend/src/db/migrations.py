"""What /ready needs to know about the schema: the revision the code expects and the DB's."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection

from src.core.settings import BACKEND_DIR


@lru_cache
def expected_heads() -> frozenset[str]:
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


async def current_revisions(connection: AsyncConnection) -> frozenset[str]:
    """The revisions recorded in the database; empty when it was never migrated."""
    has_table = await connection.run_sync(
        lambda sync: sa.inspect(sync).has_table("alembic_version")
    )
    if not has_table:
        return frozenset()
    rows = await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
    return frozenset(row[0] for row in rows)
