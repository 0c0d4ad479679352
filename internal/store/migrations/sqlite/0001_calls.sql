-- Calls and their events. Times are Unix microseconds (UTC).
CREATE TABLE calls (
    id           TEXT PRIMARY KEY,
    sip_call_id  TEXT NOT NULL DEFAULT '',
    from_uri     TEXT NOT NULL DEFAULT '',
    to_uri       TEXT NOT NULL DEFAULT '',
    trunk        TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL DEFAULT '',
    arrived_at   INTEGER NOT NULL,
    answered_at  INTEGER,
    ended_at     INTEGER,
    flow         TEXT NOT NULL DEFAULT '',
    ivr_path     TEXT NOT NULL DEFAULT '[]',
    digits       TEXT NOT NULL DEFAULT '',
    vars         TEXT NOT NULL DEFAULT '{}',
    language     TEXT NOT NULL DEFAULT '',
    outcome      TEXT NOT NULL DEFAULT '',
    queue        TEXT NOT NULL DEFAULT '',
    hangup_cause TEXT NOT NULL DEFAULT '',
    hangup_side  TEXT NOT NULL DEFAULT '',
    updated_at   INTEGER NOT NULL
);

CREATE INDEX calls_newest ON calls (arrived_at DESC, id DESC);

CREATE TABLE call_events (
    call_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    kind    TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (call_id, seq)
) WITHOUT ROWID;
