"""A run's claim names its holder: the process running the step.

A step claimed by a worker that died (killed, out of memory) is free at once when
that process is gone from the same machine, instead of after the stale time.

Revision ID: lab_0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lab_0005"
down_revision = "lab_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("claimed_by", sa.Text, nullable=False,
                                    server_default=""))


def downgrade() -> None:
    op.drop_column("runs", "claimed_by")
