"""Revocation recorded on the grant, so a token saved after it is dead too (RFC 6749
§10.5, RFC 9700 §4.14.2).

Revision ID: sandbox_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sandbox_0003"
down_revision = "sandbox_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("grants", sa.Column("revoked_at", sa.Double))


def downgrade() -> None:
    op.drop_column("grants", "revoked_at")
