"""Where and when each device authorization started (RFC 8628 §5.4): the address
the issuer saw and the time, shown to the user who is asked to approve it
(draft-ietf-oauth-cross-device-security, "authorization context").

Revision ID: sandbox_0009_l3
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sandbox_0009_l3"
down_revision = "sandbox_0008_registration"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("device_codes", sa.Column("started_from", sa.Text))
    op.add_column("device_codes", sa.Column("started_at", sa.Double))


def downgrade() -> None:
    with op.batch_alter_table("device_codes") as batch:
        batch.drop_column("started_at")
        batch.drop_column("started_from")
