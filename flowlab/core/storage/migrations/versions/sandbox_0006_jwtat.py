"""The resources a grant was approved for (RFC 8707 §2.1), space-separated.

Revision ID: sandbox_0006_jwtat
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sandbox_0006_jwtat"
down_revision = "sandbox_0005_oidc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("grants", sa.Column("resources", sa.Text))


def downgrade() -> None:
    op.drop_column("grants", "resources")
