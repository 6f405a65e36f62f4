"""Per-user task numbers: existing tasks numbered 1, 2, … per user in creation order, and each
user's counter set past their highest number.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_counter",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("last_number", sa.Integer(), nullable=False),
    )
    op.add_column("task", sa.Column("number", sa.Integer(), nullable=True))
    op.execute(
        """
        UPDATE task SET number = numbered.n
        FROM (
            SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY created_at, id) AS n
            FROM task
        ) AS numbered
        WHERE task.id = numbered.id
        """
    )
    op.execute(
        "INSERT INTO task_counter (user_id, last_number) "
        "SELECT user_id, max(number) FROM task GROUP BY user_id"
    )
    # Batch mode: SQLite cannot add a NOT NULL or a constraint to an existing table in place.
    with op.batch_alter_table("task") as batch:
        batch.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint("uq_task_user_number", ["user_id", "number"])


def downgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.drop_constraint("uq_task_user_number", type_="unique")
        batch.drop_column("number")
    op.drop_table("task_counter")
