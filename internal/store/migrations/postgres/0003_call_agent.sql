-- The agent's half of a call: when it was queued, first offered and
-- connected to an agent, which agent took it, and the agent's wrap-up.
ALTER TABLE calls
    ADD COLUMN queued_at    TIMESTAMPTZ,
    ADD COLUMN offered_at   TIMESTAMPTZ,
    ADD COLUMN connected_at TIMESTAMPTZ,
    ADD COLUMN agent        TEXT NOT NULL DEFAULT '',
    ADD COLUMN disposition  TEXT NOT NULL DEFAULT '',
    ADD COLUMN note         TEXT NOT NULL DEFAULT '';
