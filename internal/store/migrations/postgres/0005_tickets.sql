-- Tickets and the webhook outbox.
--
-- A ticket's number comes from an identity sequence, which never hands out
-- a value again (a rolled-back create leaves a gap). revision counts the
-- ticket's changes; it makes each change's outbox message id.
CREATE TABLE tickets (
    number            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    revision          BIGINT NOT NULL DEFAULT 1,
    status            TEXT NOT NULL,
    priority          TEXT NOT NULL,
    subject           TEXT NOT NULL DEFAULT '',
    caller_number     TEXT NOT NULL DEFAULT '',
    caller_name       TEXT NOT NULL DEFAULT '',
    product           TEXT NOT NULL DEFAULT '',
    serial            TEXT NOT NULL DEFAULT '',
    queue             TEXT NOT NULL DEFAULT '',
    assignee          TEXT NOT NULL DEFAULT '',
    missed            BOOLEAN NOT NULL DEFAULT false,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    first_response_at TIMESTAMPTZ,
    solved_at         TIMESTAMPTZ
);

-- FindTickets: newest change first, alone or by one of its filters.
CREATE INDEX tickets_newest ON tickets (updated_at DESC, number DESC);
CREATE INDEX tickets_caller ON tickets (caller_number, updated_at DESC, number DESC);
CREATE INDEX tickets_serial ON tickets (serial, updated_at DESC, number DESC);
CREATE INDEX tickets_status ON tickets (status, updated_at DESC, number DESC);
CREATE INDEX tickets_queue ON tickets (queue, updated_at DESC, number DESC);

-- id keeps notes written at the same microsecond in the order written.
CREATE TABLE ticket_notes (
    id     BIGSERIAL PRIMARY KEY,
    number BIGINT NOT NULL REFERENCES tickets (number) ON DELETE CASCADE,
    at     TIMESTAMPTZ NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    text   TEXT NOT NULL
);

CREATE INDEX ticket_notes_ticket ON ticket_notes (number, at, id);

CREATE TABLE ticket_calls (
    id          BIGSERIAL PRIMARY KEY,
    number      BIGINT NOT NULL REFERENCES tickets (number) ON DELETE CASCADE,
    call_id     TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    attached_by TEXT NOT NULL DEFAULT '',
    UNIQUE (number, call_id)
);

CREATE INDEX ticket_calls_call ON ticket_calls (call_id);

-- The outbox: messages for the webhook endpoints, written in the
-- transaction of the change they report. seq is the order of delivery;
-- writers take an advisory lock before inserting, so seqs become visible in
-- order. id is the message's stable identity, so a retried write inserts
-- nothing. payload is JSON kept as written (json, not jsonb).
CREATE TABLE outbox (
    id      TEXT PRIMARY KEY,
    seq     BIGSERIAL NOT NULL UNIQUE,
    topic   TEXT NOT NULL,
    key     TEXT NOT NULL DEFAULT '',
    at      TIMESTAMPTZ NOT NULL,
    payload JSON NOT NULL DEFAULT 'null'
);

CREATE INDEX outbox_at ON outbox (at);

-- Which endpoint has which message (or gave up on it).
CREATE TABLE outbox_deliveries (
    endpoint     TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    delivered_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (endpoint, message_id)
);

CREATE INDEX outbox_deliveries_message ON outbox_deliveries (message_id);
