-- Call recordings and the audit log of who accessed them. segments and
-- markers are JSON arrays (RecordingSegment, RecordingMarker).
CREATE TABLE recordings (
    id           TEXT PRIMARY KEY,
    call_id      TEXT NOT NULL DEFAULT '',
    path         TEXT NOT NULL DEFAULT '',
    format       TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    queue        TEXT NOT NULL DEFAULT '',
    segments     JSONB NOT NULL DEFAULT '[]',
    markers      JSONB NOT NULL DEFAULT '[]',
    started_at   TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ,
    duration_ms  BIGINT NOT NULL DEFAULT 0,
    bytes        BIGINT NOT NULL DEFAULT 0,
    sha256       TEXT NOT NULL DEFAULT '',
    retain_until TIMESTAMPTZ,
    legal_hold   BOOLEAN NOT NULL DEFAULT false,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX recordings_newest ON recordings (started_at DESC, id DESC);
CREATE INDEX recordings_call ON recordings (call_id, started_at DESC, id DESC);
CREATE INDEX recordings_retention ON recordings (retain_until, id) WHERE retain_until IS NOT NULL;

-- The agents of a recording's segments, each once, so a recording is found
-- by an exact agent name. SaveRecording rewrites them with the row.
CREATE TABLE recording_agents (
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    agent        TEXT NOT NULL,
    PRIMARY KEY (recording_id, agent)
);

CREATE INDEX recording_agents_agent ON recording_agents (agent, recording_id);

-- Append-only: rows are never updated or deleted by the hotline.
CREATE TABLE audit_log (
    id      TEXT PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL,
    actor   TEXT NOT NULL DEFAULT '',
    role    TEXT NOT NULL DEFAULT '',
    action  TEXT NOT NULL DEFAULT '',
    object  TEXT NOT NULL DEFAULT '',
    call_id TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '',
    source  TEXT NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_object_at ON audit_log (object, at, id);
CREATE INDEX audit_log_at ON audit_log (at, id);
