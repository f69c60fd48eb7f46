"""The sandbox's tables as schema.sql made them; an older file is adopted as is.

Revision ID: sandbox_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sandbox_0001"
down_revision = None
branch_labels = ("sandbox",)
depends_on = None


def _client_fk():
    return sa.ForeignKey("clients.client_id", ondelete="CASCADE")


def _grant_fk():
    return sa.ForeignKey("grants.id", ondelete="CASCADE")


def upgrade() -> None:
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if "clients" not in have:
        op.create_table(
            "clients",
            sa.Column("client_id", sa.Text, primary_key=True),
            sa.Column("name", sa.Text, nullable=False),
            sa.Column("confidential", sa.Boolean, nullable=False),
            sa.Column("secret_hash", sa.Text),
            sa.Column("secret_salt", sa.Text),
            sa.Column("response_types", sa.Text, nullable=False),
            sa.Column("grant_types", sa.Text, nullable=False),
            sa.Column("redirect_uris", sa.Text, nullable=False),
            sa.Column("owner", sa.Text),
            sa.Column("created_at", sa.Double, nullable=False),
        )
    if "grants" not in have:
        op.create_table(
            "grants",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("client_id", sa.Text, _client_fk(), nullable=False),
            sa.Column("user_id", sa.Text),
            sa.Column("created_at", sa.Double, nullable=False),
            sa.Column("expires_at", sa.Double, nullable=False),
            sqlite_autoincrement=True,
        )
    if "codes" not in have:
        op.create_table(
            "codes",
            sa.Column("code_hash", sa.Text, primary_key=True),
            sa.Column("grant_id", sa.Integer, _grant_fk(), nullable=False),
            sa.Column("redirect_uri", sa.Text, nullable=False),
            sa.Column("scopes", sa.Text, nullable=False),
            sa.Column("challenge", sa.Text),
            sa.Column("challenge_method", sa.Text),
            sa.Column("expires_at", sa.Double, nullable=False),
            sa.Column("used_at", sa.Double),
        )
        op.create_index("codes_expiry", "codes", ["expires_at"])
    if "tokens" not in have:
        op.create_table(
            "tokens",
            sa.Column("token_hash", sa.Text, primary_key=True),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("grant_id", sa.Integer, _grant_fk(), nullable=False),
            sa.Column("scopes", sa.Text, nullable=False),
            sa.Column("issued_at", sa.Double, nullable=False),
            sa.Column("expires_at", sa.Double, nullable=False),
            sa.Column("revoked", sa.Text),
            sa.CheckConstraint("kind IN ('access', 'refresh')"),
        )
        op.create_index("tokens_grant", "tokens", ["grant_id"])
        op.create_index("tokens_expiry", "tokens", ["expires_at"])
    if "consents" not in have:
        op.create_table(
            "consents",
            sa.Column("user_id", sa.Text, nullable=False),
            sa.Column("client_id", sa.Text, _client_fk(), nullable=False),
            sa.Column("scopes", sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("user_id", "client_id"),
        )
    if "auth_failures" not in have:
        op.create_table(
            "auth_failures",
            sa.Column("key", sa.Text, nullable=False),
            sa.Column("minute", sa.Integer, nullable=False),
            sa.Column("count", sa.Integer, nullable=False),
            sa.PrimaryKeyConstraint("key", "minute"),
        )


def downgrade() -> None:
    for name in ("auth_failures", "consents", "tokens", "codes", "grants", "clients"):
        op.drop_table(name)
