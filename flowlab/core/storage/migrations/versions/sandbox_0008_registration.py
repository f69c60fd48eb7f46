"""Dynamically registered clients (RFC 7591 §2, RFC 7592 §3): their authentication
method, keys, registration access token digest, id_token alg and scope.

Revision ID: sandbox_0008_registration
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sandbox_0008_registration"
down_revision = "sandbox_0007_pardpop"
branch_labels = None
depends_on = None

# The id_token alg is sandbox_0005_oidc's id_token_signed_response_alg.
COLUMNS = ("auth_method", "jwks", "jwks_uri", "registration_hash", "scope",
           "registered")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("clients", sa.Column(name, sa.Text))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("clients", name)
