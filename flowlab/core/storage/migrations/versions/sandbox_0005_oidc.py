"""OpenID Connect: a code keeps the request's ``nonce`` and the sign-in's
``auth_time`` (OIDC Core §3.1.2.1, §2); a client may register the alg of its
id_tokens (OIDC Registration §2 ``id_token_signed_response_alg``).

Revision ID: sandbox_0005_oidc
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sandbox_0005_oidc"
down_revision = "sandbox_0004_jose"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("codes", sa.Column("nonce", sa.Text))
    op.add_column("codes", sa.Column("auth_time", sa.Double))
    op.add_column("clients", sa.Column("id_token_signed_response_alg", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("id_token_signed_response_alg")
    with op.batch_alter_table("codes") as batch:
        batch.drop_column("auth_time")
        batch.drop_column("nonce")
