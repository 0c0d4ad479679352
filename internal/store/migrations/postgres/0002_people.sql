-- People and access: users, server-side sessions, API tokens, and the
-- append-only history of agent states. Secrets are never stored: sessions and
-- tokens keep only the SHA-256 (hex) of the value the client holds;
-- passwords only a bcrypt hash.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    username_key  TEXT NOT NULL UNIQUE, -- lower-cased username: names are unique case-insensitively
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    password_hash TEXT NOT NULL DEFAULT '',
    skills        JSONB NOT NULL DEFAULT '{}',
    language      TEXT NOT NULL DEFAULT '',
    disabled      BOOLEAN NOT NULL DEFAULT false,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    csrf         TEXT NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    disabled     BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE agent_events (
    id       TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    state    TEXT NOT NULL,
    reason   TEXT NOT NULL DEFAULT '',
    call_id  TEXT NOT NULL DEFAULT ''
);

CREATE INDEX agent_events_agent_at ON agent_events (agent_id, at, id);
CREATE INDEX agent_events_at ON agent_events (at, id);
