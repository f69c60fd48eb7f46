"""The weak servers learners build: the switches of each save, per browser.

Revision ID: lab_0012_weak_server
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lab_0012_weak_server"
down_revision = "lab_0011_branches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "weak_servers",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("browser", sa.Text, nullable=False),
        sa.Column("switches", sa.Text, nullable=False),
        sa.Column("created", sa.Double, nullable=False),
    )
    op.create_index("weak_servers_browser", "weak_servers", ["browser", "created"])


def downgrade() -> None:
    op.drop_index("weak_servers_browser", "weak_servers")
    op.drop_table("weak_servers")
