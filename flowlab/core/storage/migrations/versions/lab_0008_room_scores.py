"""The room's scoreboard: attendees' nicknames, what each lab run's wire showed
(kept after the run is gone), and whether the room page shows the leaderboard.

Revision ID: lab_0008_room_scores
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lab_0008_room_scores"
down_revision = "lab_0007_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("room", sa.Column("leaderboard", sa.Boolean, nullable=False,
                                    server_default=sa.false()))
    op.create_table(
        "nicknames",
        sa.Column("browser", sa.Text, primary_key=True),
        sa.Column("nickname", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
    )
    op.create_table(
        "lab_progress",
        sa.Column("run", sa.Text, primary_key=True),
        sa.Column("browser", sa.Text, nullable=False),
        sa.Column("lab", sa.Text, nullable=False),
        sa.Column("variant", sa.Text, nullable=False),
        sa.Column("started", sa.Double, nullable=False),
        sa.Column("verdict", sa.Text),
        sa.Column("decided", sa.Double),
    )
    op.create_index("lab_progress_started", "lab_progress", ["started"])


def downgrade() -> None:
    op.drop_index("lab_progress_started", "lab_progress")
    op.drop_table("lab_progress")
    op.drop_table("nicknames")
    with op.batch_alter_table("room") as batch:
        batch.drop_column("leaderboard")
