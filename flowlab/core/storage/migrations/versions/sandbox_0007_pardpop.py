"""DPoP bindings: the key a code or token is bound to (RFC 9449 §6, §10).

Revision ID: sandbox_0007_pardpop
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sandbox_0007_pardpop"
down_revision = "sandbox_0006_jwtat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dpop_bindings",
        sa.Column("value_hash", sa.Text, primary_key=True),
        sa.Column("jkt", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=False),
    )
    op.create_index("dpop_bindings_expiry", "dpop_bindings", ["expires_at"])


def downgrade() -> None:
    op.drop_index("dpop_bindings_expiry", "dpop_bindings")
    op.drop_table("dpop_bindings")
