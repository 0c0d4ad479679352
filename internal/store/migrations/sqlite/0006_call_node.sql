-- The hotline node that handles each call, so that a node restarting after a
-- crash closes the calls it left open, and only those. Calls saved before
-- this migration have node ''.
ALTER TABLE calls ADD COLUMN node TEXT NOT NULL DEFAULT '';

-- The calls still open, which a restarting node looks for.
CREATE INDEX calls_open ON calls (node, arrived_at) WHERE ended_at IS NULL;
