"""The API console's calls, each sealed for the browser that owns the run.

Revision ID: lab_0007_console
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lab_0007_console"
down_revision = "lab_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_calls",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("run", sa.Text, nullable=False),
        sa.Column("browser", sa.Text, nullable=False),
        sa.Column("created", sa.Double, nullable=False),
        sa.Column("expires", sa.Double, nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
    )
    op.create_index("console_calls_run", "console_calls", ["run", "created"])
    op.create_index("console_calls_expires", "console_calls", ["expires"])


def downgrade() -> None:
    op.drop_table("console_calls")
