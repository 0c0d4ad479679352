-- The agent's half of a call: when it was queued, first offered and
-- connected to an agent, which agent took it, and the agent's wrap-up.
ALTER TABLE calls ADD COLUMN queued_at INTEGER;
ALTER TABLE calls ADD COLUMN offered_at INTEGER;
ALTER TABLE calls ADD COLUMN connected_at INTEGER;
ALTER TABLE calls ADD COLUMN agent TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN disposition TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN note TEXT NOT NULL DEFAULT '';
