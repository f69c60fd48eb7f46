"""The sandbox provider's tables (RFC 6749 §2, §4.1.2, §10.5), on the lab's metadata.

Registered apps, grants (one consent each), codes and tokens kept as SHA-256
digests, consents, failed client authentications per minute, and device
authorizations (RFC 8628). Times are Unix seconds as doubles. Change a table here
and in a new revision on the ``sandbox`` branch together.
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
from sqlalchemy import PrimaryKeyConstraint
from sqlalchemy import Table
from sqlalchemy import Text

from flowlab.core.storage.tables import metadata

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
    # OIDC Registration §2; NULL: the issuer's default (RS256, OIDC Core §2)
    Column("id_token_signed_response_alg", Text),
    # Set by dynamic registration (RFC 7591 §2, RFC 7592 §3); NULL otherwise.
    Column("auth_method", Text),  # token_endpoint_auth_method
    Column("jwks", Text),  # JSON JWK Set of public keys (private_key_jwt)
    Column("jwks_uri", Text),  # loopback only; its keys are kept in ``jwks``
    Column("registration_hash", Text),  # SHA-256 of the registration access token
    Column("scope", Text),  # space-separated; NULL: any of the sandbox's scopes
    Column("registered", Text),  # JSON: the metadata as registered, for reads
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
    Column("resources", Text),  # RFC 8707 resources approved, space-separated
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
    Column("nonce", Text),  # OIDC Core §3.1.2.1, echoed in the id_token
    Column("auth_time", Double),  # when the user signed in (OIDC Core §2)
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
    # Where and when the device asked, as the issuer saw it, for the approval page
    # (RFC 8628 §5.4); NULL for codes from before sandbox_0009.
    Column("started_from", Text),
    Column("started_at", Double),
    Index("device_codes_user", "user_hash", unique=True),
    Index("device_codes_expiry", "expires_at"),
)

SANDBOX_TABLES = (clients, grants, codes, tokens, consents, auth_failures,
                  device_codes)

# The sandbox's own signing keys (RFC 7517): two per algorithm, the newer signs and
# the older stays published so that what it signed still verifies (OIDC Core §10.1.1).
# The private key is sealed under the app's secret key; the public JWK is in clear.
signing_keys = Table(
    "signing_keys", metadata,
    Column("alg", Text, nullable=False),
    Column("slot", Integer, nullable=False),  # 0 or 1
    Column("kid", Text, nullable=False, unique=True),  # RFC 7638 thumbprint
    Column("public_jwk", Text, nullable=False),  # JSON
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", Double, nullable=False),
    PrimaryKeyConstraint("alg", "slot"),
)

# Values that may be used once, seen by every process: a JWT's jti (RFC 7523 §3,
# RFC 9449 §11.1), a pushed request's request_uri (RFC 9126 §2.2). ``kind`` names
# the cache; ``key`` is a SHA-256 digest; ``value`` is JSON or NULL.
once_values = Table(
    "once_values", metadata,
    Column("kind", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("value", Text),
    Column("expires_at", Double, nullable=False),
    PrimaryKeyConstraint("kind", "key"),
    Index("once_values_expiry", "expires_at"),
)

SANDBOX_TABLES = (*SANDBOX_TABLES, signing_keys, once_values)

# DPoP bindings (RFC 9449 §6, §10): the key thumbprint (``jkt``) a code, an access
# token or a public client's refresh token is bound to, by the value's digest.
dpop_bindings = Table(
    "dpop_bindings", metadata,
    Column("value_hash", Text, primary_key=True),
    Column("jkt", Text, nullable=False),
    Column("expires_at", Double, nullable=False),
    Index("dpop_bindings_expiry", "expires_at"),
)

SANDBOX_TABLES = (*SANDBOX_TABLES, dpop_bindings)
