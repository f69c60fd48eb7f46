"""The runs table as schema.sql (user_version 3) made it.

An older file is adopted: the columns later layouts added are added with their
defaults, so its runs stay (they used to be dropped).

Revision ID: lab_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lab_0001"
down_revision = None
branch_labels = ("lab",)
depends_on = None

# Columns added after the first layout, with what older rows get.
LATER = (
    ("options", sa.Text, "{}"),
    ("version", sa.Integer, "0"),
    ("claimed", sa.Integer, "0"),
    ("claimed_at", sa.Double, "0"),
)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "runs" in inspector.get_table_names():
        have = {column["name"] for column in inspector.get_columns("runs")}
        for name, type_, default in LATER:
            if name not in have:
                op.add_column("runs", sa.Column(name, type_, nullable=False,
                                                server_default=default))
        return
    op.create_table(
        "runs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("flow", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        *(sa.Column(name, type_, nullable=False, server_default=default)
          for name, type_, default in LATER[:1]),
        sa.Column("secrets", sa.Text, nullable=False),
        sa.Column("steps", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        *(sa.Column(name, type_, nullable=False, server_default=default)
          for name, type_, default in LATER[1:]),
        sa.Column("created", sa.Double, nullable=False),
        sa.Column("expires", sa.Double, nullable=False),
    )
    op.create_index("runs_owner", "runs", ["owner", "created"])
    op.create_index("runs_expires", "runs", ["expires"])


def downgrade() -> None:
    op.drop_table("runs")
