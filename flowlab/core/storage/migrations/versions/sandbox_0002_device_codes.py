"""Device authorizations for the device grant (RFC 8628 §3.2; not in Spotify).

Revision ID: sandbox_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sandbox_0002"
down_revision = "sandbox_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_codes",
        sa.Column("device_hash", sa.Text, primary_key=True),
        sa.Column("user_hash", sa.Text, nullable=False),
        sa.Column("client_id", sa.Text,
                  sa.ForeignKey("clients.client_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("issuer_mark", sa.Text, nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text),
        sa.Column("poll_interval", sa.Integer, nullable=False),
        sa.Column("last_poll", sa.Double),
        sa.Column("expires_at", sa.Double, nullable=False),
        sa.CheckConstraint("status IN ('pending', 'approved', 'denied', 'used')"),
    )
    op.create_index("device_codes_user", "device_codes", ["user_hash"], unique=True)
    op.create_index("device_codes_expiry", "device_codes", ["expires_at"])


def downgrade() -> None:
    op.drop_table("device_codes")
