-- The sandbox provider's state: apps, grants, codes, tokens, consents, failures.
-- Codes and tokens are stored as SHA-256 hex digests, never in the clear.
-- Every statement is idempotent: each process applies this file at start-up.

CREATE TABLE IF NOT EXISTS clients (
    client_id      TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    confidential   INTEGER NOT NULL,
    secret_hash    TEXT,              -- SHA-256 of the secret; NULL for public apps
    secret_salt    TEXT,              -- input to the secret's derivation (reveal)
    response_types TEXT NOT NULL,     -- space-separated
    grant_types    TEXT NOT NULL,     -- space-separated
    redirect_uris  TEXT NOT NULL,     -- one per line
    owner          TEXT,              -- dashboard session that made it; NULL = demo
    created_at     REAL NOT NULL
);

-- One user's consent to one client: a code, and every token issued from it.
CREATE TABLE IF NOT EXISTS grants (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id    TEXT,                 -- NULL for client credentials
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL         -- refresh tokens die with the grant
);

CREATE TABLE IF NOT EXISTS codes (
    code_hash      TEXT PRIMARY KEY,
    grant_id       INTEGER NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    challenge      TEXT,
    challenge_method TEXT,
    expires_at     REAL NOT NULL,
    used_at        REAL               -- set once, on redemption; kept to spot reuse
);

CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    grant_id   INTEGER NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    issued_at  REAL NOT NULL,
    expires_at REAL NOT NULL,
    revoked    TEXT                  -- NULL, 'revoked' or 'rotated'
);
CREATE INDEX IF NOT EXISTS tokens_grant ON tokens (grant_id);
CREATE INDEX IF NOT EXISTS tokens_expiry ON tokens (expires_at);
CREATE INDEX IF NOT EXISTS codes_expiry ON codes (expires_at);

CREATE TABLE IF NOT EXISTS consents (
    user_id   TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scopes    TEXT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- Failed client authentications per client and address, counted per minute.
CREATE TABLE IF NOT EXISTS auth_failures (
    key    TEXT NOT NULL,
    minute INTEGER NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (key, minute)
);
