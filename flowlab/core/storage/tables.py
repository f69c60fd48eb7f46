"""Every table the lab keeps, declared once; Alembic revisions create and change them.

The sandbox's tables (RFC 6749 §2, §4.1.2, §10.5): registered apps, grants (one
consent each), codes and tokens kept as SHA-256 digests, consents, failed client
authentications per minute, and device authorizations (RFC 8628). The lab's: runs
of the live runner. Times are Unix seconds as doubles. Change a table here and in a
new revision together.
"""

from __future__ import annotations

from sqlalchemy import Boolean
from sqlalchemy import CheckConstraint
from sqlalchemy import Column
from sqlalchemy import Double
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import MetaData
from sqlalchemy import PrimaryKeyConstraint
from sqlalchemy import Table
from sqlalchemy import Text

metadata = MetaData()

# -- The sandbox provider (branch "sandbox") -------------------------------------

clients = Table(
    "clients", metadata,
    Column("client_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("confidential", Boolean, nullable=False),
    Column("secret_hash", Text),  # SHA-256 of the secret; NULL for public apps
    Column("secret_salt", Text),  # input to the secret's derivation (reveal)
    Column("response_types", Text, nullable=False),  # space-separated
    Column("grant_types", Text, nullable=False),  # space-separated
    Column("redirect_uris", Text, nullable=False),  # one per line
    Column("owner", Text),  # dashboard session that made it; NULL = demo app
    Column("created_at", Double, nullable=False),
)


def _client_fk() -> ForeignKey:
    return ForeignKey("clients.client_id", ondelete="CASCADE")


# One user's consent to one client: a code, and every token issued from it.
grants = Table(
    "grants", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", Text, _client_fk(), nullable=False),
    Column("user_id", Text),  # NULL for client credentials
    Column("created_at", Double, nullable=False),
    Column("expires_at", Double, nullable=False),  # refresh tokens die with it
    Column("revoked_at", Double),  # set once; every token of the grant dies with it
    sqlite_autoincrement=True,
)


def _grant_fk() -> ForeignKey:
    return ForeignKey("grants.id", ondelete="CASCADE")


codes = Table(
    "codes", metadata,
    Column("code_hash", Text, primary_key=True),
    Column("grant_id", Integer, _grant_fk(), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("challenge", Text),
    Column("challenge_method", Text),
    Column("expires_at", Double, nullable=False),
    Column("used_at", Double),  # set once, on redemption; kept to spot reuse
    Index("codes_expiry", "expires_at"),
)

tokens = Table(
    "tokens", metadata,
    Column("token_hash", Text, primary_key=True),
    Column("kind", Text, CheckConstraint("kind IN ('access', 'refresh')"),
           nullable=False),
    Column("grant_id", Integer, _grant_fk(), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("issued_at", Double, nullable=False),
    Column("expires_at", Double, nullable=False),
    Column("revoked", Text),  # NULL, 'revoked' or 'rotated'
    Index("tokens_grant", "grant_id"),
    Index("tokens_expiry", "expires_at"),
)

consents = Table(
    "consents", metadata,
    Column("user_id", Text, nullable=False),
    Column("client_id", Text, _client_fk(), nullable=False),
    Column("scopes", Text, nullable=False),
    PrimaryKeyConstraint("user_id", "client_id"),
)

# Failed client authentications per client and caller, counted per minute.
auth_failures = Table(
    "auth_failures", metadata,
    Column("key", Text, nullable=False),
    Column("minute", Integer, nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("key", "minute"),
)

# A device authorization in progress (RFC 8628 §3.2; not in Spotify): both codes as
# digests, the user's answer, and the polling interval, raised by each slow_down.
device_codes = Table(
    "device_codes", metadata,
    Column("device_hash", Text, primary_key=True),
    Column("user_hash", Text, nullable=False),
    Column("client_id", Text, _client_fk(), nullable=False),
    Column("issuer_mark", Text, nullable=False),  # the issuer's token_prefix
    Column("scopes", Text, nullable=False),
    Column("status", Text, CheckConstraint(
        "status IN ('pending', 'approved', 'denied', 'used')"), nullable=False),
    Column("user_id", Text),  # who approved or denied
    Column("poll_interval", Integer, nullable=False),
    Column("last_poll", Double),
    Column("expires_at", Double, nullable=False),
    Index("device_codes_user", "user_hash", unique=True),
    Index("device_codes_expiry", "expires_at"),
)

# -- The lab (branch "lab") --------------------------------------------------------

# Runs of the live runner: steps, secrets and options as JSON text. A run belongs to
# the browser that started it and lasts a day.
runs = Table(
    "runs", metadata,
    Column("id", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("flow", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("options", Text, nullable=False, server_default="{}"),
    Column("secrets", Text, nullable=False),
    Column("steps", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
    # The step a request is running now, and since when (a double click waits).
    Column("claimed", Integer, nullable=False, server_default="0"),
    Column("claimed_at", Double, nullable=False, server_default="0"),
    # Who claimed it (runner.holder): a claim whose process is gone is free at once.
    Column("claimed_by", Text, nullable=False, server_default=""),
    Column("created", Double, nullable=False),
    Column("expires", Double, nullable=False),
    Column("step", Text),  # the id of the latest step done, for the room's counts
    # A branch (runner.branch): the run it was made from, and from which step.
    Column("parent", Text),
    Column("parent_step", Integer),
    Index("runs_owner", "owner", "created"),
    Index("runs_parent", "parent"),
    Index("runs_expires", "expires"),
)

# When the presenter last cleared the room's counts: one row, id 1. The room counts
# only runs started since (flowlab/core/room.py); the runs themselves are not touched.
room = Table(
    "room", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("cleared", Double, nullable=False),
)

SANDBOX_TABLES = (clients, grants, codes, tokens, consents, auth_failures,
                  device_codes)

# Each browser's provider choice, shared by every process: the profile as JSON (not
# secret) and the client secret sealed (flowlab.core.secrets: nonce + AES-GCM ciphertext
# under a key only the browser's cookie holds). Idle an hour: deleted.
choices = Table(
    "choices", metadata,
    Column("browser", Text, primary_key=True),
    Column("provider", Text, nullable=False),
    Column("secret", LargeBinary),  # NULL for a public client
    Column("touched", Double, nullable=False),
    Index("choices_touched", "touched"),
)

# A real provider's run secrets (state, verifier, code, tokens), sealed as JSON for
# the browser that owns the run. Idle an hour: deleted.
run_secrets = Table(
    "run_secrets", metadata,
    Column("run", Text, primary_key=True),
    Column("browser", Text, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("touched", Double, nullable=False),
    Index("run_secrets_browser", "browser"),
    Index("run_secrets_touched", "touched"),
)

# Runs of the attack labs (flowlab/labs/store.py), shared by every process: the
# lab client's and the attacker's fields and the captured messages as JSON, only the
# labs' own throwaway demo values (that module says why they may be stored whole).
lab_runs = Table(
    "lab_runs", metadata,
    Column("id", Text, primary_key=True),
    Column("lab", Text, nullable=False),
    Column("variant", Text, nullable=False),
    Column("browser", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("backchannel", Text, nullable=False),
    Column("redirect_base", Text, nullable=False),
    Column("state", Text),  # the state the lab client waits for, if any
    Column("client", Text, nullable=False),
    Column("attacker", Text, nullable=False),
    Column("trace", Text, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("created", Double, nullable=False),
    Index("lab_runs_state", "lab", "state"),
    Index("lab_runs_browser", "browser", "lab", "variant"),
    Index("lab_runs_created", "created"),
)
