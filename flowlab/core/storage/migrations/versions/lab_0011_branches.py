"""A run may be a branch of another: one step's request edited and sent again.

Revision ID: lab_0011_branches
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lab_0011_branches"
down_revision = "lab_0010_exercises"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("parent", sa.Text))
    op.add_column("runs", sa.Column("parent_step", sa.Integer))
    op.create_index("runs_parent", "runs", ["parent"])


def downgrade() -> None:
    op.drop_index("runs_parent", "runs")
    op.drop_column("runs", "parent_step")
    op.drop_column("runs", "parent")
