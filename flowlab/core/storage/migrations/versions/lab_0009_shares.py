"""Read-only share links of runs: a token's digest, its run, when it was revoked.

Revision ID: lab_0009_shares
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lab_0009_shares"
down_revision = "lab_0008_room_scores"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("revoked_at", sa.Double),
    )
    op.create_index("shares_run", "shares", ["run_id"])


def downgrade() -> None:
    op.drop_index("shares_run", table_name="shares")
    op.drop_table("shares")
