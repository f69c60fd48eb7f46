"""Runs keep the id of their latest step in a column of its own.

The room counts runs per latest step; reading it out of the steps' JSON needed
SQLite's ``json_extract``. A plain column works on every database.

Revision ID: lab_0002
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "lab_0002"
down_revision = "lab_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("step", sa.Text))
    runs = sa.table("runs", sa.column("id", sa.Text), sa.column("steps", sa.Text),
                    sa.column("step", sa.Text))
    bind = op.get_bind()
    for run_id, steps in bind.execute(sa.select(runs.c.id, runs.c.steps)).all():
        done = json.loads(steps or "[]")
        if done and isinstance(done[-1], dict) and done[-1].get("id"):
            bind.execute(runs.update().where(runs.c.id == run_id)
                         .values(step=done[-1]["id"]))


def downgrade() -> None:
    op.drop_column("runs", "step")
