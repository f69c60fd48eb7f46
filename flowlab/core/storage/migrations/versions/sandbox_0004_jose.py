"""The sandbox's signing keys, and the values that may be used once (RFC 7517,
RFC 7523 §3, RFC 9126 §2.2, RFC 9449 §11.1).

Revision ID: sandbox_0004_jose
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sandbox_0004_jose"
down_revision = "sandbox_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("alg", sa.Text, nullable=False),
        sa.Column("slot", sa.Integer, nullable=False),
        sa.Column("kid", sa.Text, nullable=False, unique=True),
        sa.Column("public_jwk", sa.Text, nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("alg", "slot"),
    )
    op.create_table(
        "once_values",
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("expires_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_index("once_values_expiry", "once_values", ["expires_at"])


def downgrade() -> None:
    op.drop_index("once_values_expiry", "once_values")
    op.drop_table("once_values")
    op.drop_table("signing_keys")
