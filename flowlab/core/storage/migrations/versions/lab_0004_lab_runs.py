"""Attack-lab runs move from process memory to the database.

Any worker of any process can then serve any request of a lab run, the attacker's
on 127.0.0.2 included.

Revision ID: lab_0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lab_0004"
down_revision = "lab_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lab_runs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("lab", sa.Text, nullable=False),
        sa.Column("variant", sa.Text, nullable=False),
        sa.Column("browser", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("backchannel", sa.Text, nullable=False),
        sa.Column("redirect_base", sa.Text, nullable=False),
        sa.Column("state", sa.Text),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("attacker", sa.Text, nullable=False),
        sa.Column("trace", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created", sa.Double, nullable=False),
    )
    op.create_index("lab_runs_state", "lab_runs", ["lab", "state"])
    op.create_index("lab_runs_browser", "lab_runs", ["browser", "lab", "variant"])
    op.create_index("lab_runs_created", "lab_runs", ["created"])


def downgrade() -> None:
    op.drop_table("lab_runs")
