"""Exercises graded from the wire: attempts, and what the sandbox received for them.

Revision ID: lab_0010_exercises
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lab_0010_exercises"
down_revision = "lab_0009_shares"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exercise_attempts",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("exercise", sa.Text, nullable=False),
        sa.Column("client_id", sa.Text, nullable=False, unique=True),
        sa.Column("browser", sa.Text),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("created", sa.Double, nullable=False),
        sa.Column("expires", sa.Double, nullable=False),
        sa.Column("solved", sa.Double),
    )
    op.create_index("exercise_attempts_address", "exercise_attempts",
                    ["address", "created"])
    op.create_index("exercise_attempts_browser", "exercise_attempts", ["browser"])
    op.create_index("exercise_attempts_expires", "exercise_attempts", ["expires"])
    op.create_table(
        "exercise_traffic",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("attempt", sa.Text,
                  sa.ForeignKey("exercise_attempts.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("exercise_traffic_attempt", "exercise_traffic",
                    ["attempt", "id"])


def downgrade() -> None:
    op.drop_table("exercise_traffic")
    op.drop_table("exercise_attempts")
