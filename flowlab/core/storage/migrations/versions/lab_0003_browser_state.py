"""Provider choices and sealed run secrets move from process memory to the database.

Shared by every process; the secrets only as AES-GCM ciphertext (``flowlab.sealing``).

Revision ID: lab_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lab_0003"
down_revision = "lab_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "choices",
        sa.Column("browser", sa.Text, primary_key=True),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("secret", sa.LargeBinary),
        sa.Column("touched", sa.Double, nullable=False),
    )
    op.create_index("choices_touched", "choices", ["touched"])
    op.create_table(
        "run_secrets",
        sa.Column("run", sa.Text, primary_key=True),
        sa.Column("browser", sa.Text, nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("touched", sa.Double, nullable=False),
    )
    op.create_index("run_secrets_browser", "run_secrets", ["browser"])
    op.create_index("run_secrets_touched", "run_secrets", ["touched"])


def downgrade() -> None:
    op.drop_table("run_secrets")
    op.drop_table("choices")
