"""The room's counts can start again: when the presenter last cleared them.

Revision ID: lab_0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lab_0006"
down_revision = "lab_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "room",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("cleared", sa.Double, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("room")
