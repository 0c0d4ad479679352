package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// This file implements OutboxStore (tickets.go) once for both backends, and
// builds the outbox messages AppendEvents and SaveRecording write in their
// transactions. A message's payload is stored as written (SQLite TEXT,
// PostgreSQL json); a message without one stores the JSON null.

var (
	_ OutboxStore = (*SQLite)(nil)
	_ OutboxStore = (*Postgres)(nil)
)

// insertOutbox writes msgs in transaction c; a message whose ID is stored is
// ignored. On PostgreSQL it first takes the outbox lock (see pgOutboxLock),
// so it must be the transaction's last write.
func (d dialect) insertOutbox(ctx context.Context, c sqlConn, msgs ...OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	if d.lockOutbox != "" {
		if _, err := c.exec(ctx, d.lockOutbox); err != nil {
			return fmt.Errorf("outbox lock: %w", err)
		}
	}
	for _, m := range msgs {
		payload := string(m.Payload)
		if len(m.Payload) == 0 {
			payload = "null"
		}
		if _, err := c.exec(ctx, `INSERT INTO outbox (id, topic, key, at, payload) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, m.ID, m.Topic, m.Key, d.time(m.At), payload); err != nil {
			return fmt.Errorf("outbox message %s: %w", m.ID, err)
		}
	}
	return nil
}

// eventKey identifies an event.
type eventKey struct {
	callID string
	seq    int
}

// validatePublish checks the events that publish a message: their payload
// must be JSON (or empty). It reports whether any event publishes.
func validatePublish(ev []Event) (bool, error) {
	publish := false
	for i, e := range ev {
		if e.Publish == "" {
			continue
		}
		publish = true
		if len(e.Payload) > 0 && !json.Valid(e.Payload) {
			return false, fmt.Errorf("store: append events: event %d (%s/%d): payload is not JSON: %w",
				i, e.CallID, e.Seq, ErrRejected)
		}
	}
	return publish, nil
}

// eventMessages are the outbox messages of the events that publish one and
// that the transaction stored (stored holds them), in order: ID
// "call:<CallID>:<Seq>", Key the call id. An event stored by an earlier
// write publishes nothing again, even after its message was pruned.
func eventMessages(ev []Event, stored map[eventKey]bool) []OutboxMessage {
	var out []OutboxMessage
	for _, e := range ev {
		if e.Publish == "" || !stored[eventKey{e.CallID, e.Seq}] {
			continue
		}
		out = append(out, OutboxMessage{
			ID:      "call:" + e.CallID + ":" + strconv.Itoa(e.Seq),
			Topic:   e.Publish,
			Key:     e.CallID,
			At:      utcMicro(e.At),
			Payload: e.Payload,
		})
	}
	return out
}

// recordingReady is the payload of a recording.ready message.
type recordingReady struct {
	RecordingID string   `json:"recording_id"`
	CallID      string   `json:"call_id"`
	State       string   `json:"state"`
	DurationMS  int64    `json:"duration_ms"`
	Bytes       int64    `json:"bytes"`
	SHA256      string   `json:"sha256"`
	Queue       string   `json:"queue"`
	Agents      []string `json:"agents"`
}

// recordingMessages is the recording.ready message of r when r is finished
// (complete or recovered), else nothing. Its ID "recording:<id>:ready" is
// written once, however often the finished recording is saved again.
func recordingMessages(r Recording) ([]OutboxMessage, error) {
	if r.State != RecordingComplete && r.State != RecordingRecovered {
		return nil, nil
	}
	agents := indexedAgents(r)
	if agents == nil {
		agents = []string{}
	}
	payload, err := json.Marshal(recordingReady{
		RecordingID: r.ID, CallID: r.CallID, State: r.State, DurationMS: r.DurationMS, Bytes: r.Bytes,
		SHA256: r.SHA256, Queue: r.Queue, Agents: agents,
	})
	if err != nil {
		return nil, fmt.Errorf("store: save recording %s: encode recording.ready: %w", r.ID, err)
	}
	return []OutboxMessage{{
		ID:      "recording:" + r.ID + ":ready",
		Topic:   TopicRecordingReady,
		Key:     r.CallID,
		At:      utcMicro(r.UpdatedAt),
		Payload: payload,
	}}, nil
}

// pendingOutbox implements PendingOutbox.
func (b sqlBackend) pendingOutbox(ctx context.Context, endpoint string, afterSeq int64, limit int) ([]OutboxMessage, error) {
	var out []OutboxMessage
	err := b.read(ctx, func(c sqlConn) error {
		rows, err := c.query(ctx, `SELECT o.id, o.seq, o.topic, o.key, o.at, o.payload FROM outbox o
			WHERE o.seq > ? AND NOT EXISTS (
				SELECT 1 FROM outbox_deliveries d WHERE d.endpoint = ? AND d.message_id = o.id)
			ORDER BY o.seq LIMIT ?`, afterSeq, endpoint, pageLimit(Page{Limit: limit}))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				m       OutboxMessage
				payload []byte
			)
			if err := rows.Scan(&m.ID, &m.Seq, &m.Topic, &m.Key, &notNullTime{&m.At}, &payload); err != nil {
				return err
			}
			m.Payload = json.RawMessage(payload)
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, b.fail("pending outbox for "+endpoint, err)
	}
	return out, nil
}

// markDelivered implements MarkDelivered. Marking a message that is not
// (or no longer) in the outbox is a no-op.
func (b sqlBackend) markDelivered(ctx context.Context, endpoint, id string, at time.Time) error {
	if endpoint == "" || id == "" {
		return fmt.Errorf("store: mark delivered: endpoint and message id are required: %w", ErrRejected)
	}
	err := b.write(ctx, func(c sqlConn) error {
		_, err := c.exec(ctx, `INSERT INTO outbox_deliveries (endpoint, message_id, delivered_at)
			SELECT ?, id, ? FROM outbox WHERE id = ?
			ON CONFLICT (endpoint, message_id) DO NOTHING`, endpoint, b.d.time(orNow(at)), id)
		return err
	})
	if err != nil {
		return b.fail("mark "+id+" delivered to "+endpoint, err)
	}
	return nil
}

// pruneOutbox implements PruneOutbox.
func (b sqlBackend) pruneOutbox(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := b.write(ctx, func(c sqlConn) error {
		cut := b.d.time(utcMicro(before))
		if _, err := c.exec(ctx, `DELETE FROM outbox_deliveries
			WHERE message_id IN (SELECT id FROM outbox WHERE at < ?)`, cut); err != nil {
			return err
		}
		var err error
		n, err = c.exec(ctx, `DELETE FROM outbox WHERE at < ?`, cut)
		return err
	})
	if err != nil {
		return 0, b.fail("prune outbox", err)
	}
	return int(n), nil
}

// PendingOutbox returns up to limit messages with seq > afterSeq that
// endpoint has not marked, in seq order. limit <= 0 means
// DefaultPageLimit; at most MaxPageLimit are returned.
func (s *SQLite) PendingOutbox(ctx context.Context, endpoint string, afterSeq int64, limit int) ([]OutboxMessage, error) {
	return s.backend().pendingOutbox(ctx, endpoint, afterSeq, limit)
}

// MarkDelivered records that endpoint has message id; marking twice, or a
// message already pruned, is a no-op.
func (s *SQLite) MarkDelivered(ctx context.Context, endpoint, id string, at time.Time) error {
	return s.backend().markDelivered(ctx, endpoint, id, at)
}

// PruneOutbox deletes the messages with At before before, and their marks.
func (s *SQLite) PruneOutbox(ctx context.Context, before time.Time) (int, error) {
	return s.backend().pruneOutbox(ctx, before)
}

// PendingOutbox returns up to limit messages with seq > afterSeq that
// endpoint has not marked, in seq order. limit <= 0 means
// DefaultPageLimit; at most MaxPageLimit are returned.
func (s *Postgres) PendingOutbox(ctx context.Context, endpoint string, afterSeq int64, limit int) ([]OutboxMessage, error) {
	return s.backend().pendingOutbox(ctx, endpoint, afterSeq, limit)
}

// MarkDelivered records that endpoint has message id; marking twice, or a
// message already pruned, is a no-op.
func (s *Postgres) MarkDelivered(ctx context.Context, endpoint, id string, at time.Time) error {
	return s.backend().markDelivered(ctx, endpoint, id, at)
}

// PruneOutbox deletes the messages with At before before, and their marks.
func (s *Postgres) PruneOutbox(ctx context.Context, before time.Time) (int, error) {
	return s.backend().pruneOutbox(ctx, before)
}
