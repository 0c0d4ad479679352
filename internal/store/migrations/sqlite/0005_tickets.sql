-- Tickets and the webhook outbox. Times are Unix microseconds (UTC).
--
-- A ticket's number comes from AUTOINCREMENT, which never hands out a value
-- again, even after the row with the highest number is deleted. revision
-- counts the ticket's changes; it makes each change's outbox message id.
CREATE TABLE tickets (
    number            INTEGER PRIMARY KEY AUTOINCREMENT,
    revision          INTEGER NOT NULL DEFAULT 1,
    status            TEXT NOT NULL,
    priority          TEXT NOT NULL,
    subject           TEXT NOT NULL DEFAULT '',
    caller_number     TEXT NOT NULL DEFAULT '',
    caller_name       TEXT NOT NULL DEFAULT '',
    product           TEXT NOT NULL DEFAULT '',
    serial            TEXT NOT NULL DEFAULT '',
    queue             TEXT NOT NULL DEFAULT '',
    assignee          TEXT NOT NULL DEFAULT '',
    missed            INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    first_response_at INTEGER,
    solved_at         INTEGER
);

-- FindTickets: newest change first, alone or by one of its filters.
CREATE INDEX tickets_newest ON tickets (updated_at DESC, number DESC);
CREATE INDEX tickets_caller ON tickets (caller_number, updated_at DESC, number DESC);
CREATE INDEX tickets_serial ON tickets (serial, updated_at DESC, number DESC);
CREATE INDEX tickets_status ON tickets (status, updated_at DESC, number DESC);
CREATE INDEX tickets_queue ON tickets (queue, updated_at DESC, number DESC);

-- id keeps notes written at the same microsecond in the order written.
CREATE TABLE ticket_notes (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    number INTEGER NOT NULL REFERENCES tickets (number) ON DELETE CASCADE,
    at     INTEGER NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    text   TEXT NOT NULL
);

CREATE INDEX ticket_notes_ticket ON ticket_notes (number, at, id);

CREATE TABLE ticket_calls (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    number      INTEGER NOT NULL REFERENCES tickets (number) ON DELETE CASCADE,
    call_id     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    attached_by TEXT NOT NULL DEFAULT '',
    UNIQUE (number, call_id)
);

CREATE INDEX ticket_calls_call ON ticket_calls (call_id);

-- The outbox: messages for the webhook endpoints, written in the
-- transaction of the change they report. seq is the order of delivery (the
-- single writer connection commits in seq order); id is the message's
-- stable identity, so a retried write inserts nothing. payload is JSON.
CREATE TABLE outbox (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    id      TEXT NOT NULL UNIQUE,
    topic   TEXT NOT NULL,
    key     TEXT NOT NULL DEFAULT '',
    at      INTEGER NOT NULL,
    payload TEXT NOT NULL DEFAULT 'null'
);

CREATE INDEX outbox_at ON outbox (at);

-- Which endpoint has which message (or gave up on it).
CREATE TABLE outbox_deliveries (
    endpoint     TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    delivered_at INTEGER NOT NULL,
    PRIMARY KEY (endpoint, message_id)
) WITHOUT ROWID;

CREATE INDEX outbox_deliveries_message ON outbox_deliveries (message_id);
