-- Runs of the live runner: one row a run, its steps and secrets as JSON.
-- Kept server-side only; a run belongs to the browser session that started it.
-- Runs last a day: a file with an older layout (user_version) is simply replaced.
PRAGMA user_version = 3;
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    flow TEXT NOT NULL,
    provider TEXT NOT NULL,
    -- What the learner chose on the start page, as JSON (e.g. without PKCE).
    options TEXT NOT NULL DEFAULT '{}',
    secrets TEXT NOT NULL,
    steps TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    -- The step a request is running now, and since when (a double click waits).
    claimed INTEGER NOT NULL DEFAULT 0,
    claimed_at REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_owner ON runs (owner, created);
CREATE INDEX IF NOT EXISTS runs_expires ON runs (expires);
