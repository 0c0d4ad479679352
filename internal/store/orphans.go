package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// What a crashed process leaves behind: a hotline killed (kill -9, power
// loss, OOM) never ends its live calls, so their rows stay open (no end
// time, no outcome) and agents it had on a call stay "on call" in the
// agent history. The ACD is in memory: a restarted node starts with every
// agent signed out, so the history must say so too. A restarting node closes
// both with CloseOrphans, once the journal of its previous process is
// replayed (Writer.CloseOrphans orders this).

// The crash close: a call closed by CloseOrphans has OutcomeCrashed, hangup
// side HangupSideHotline and cause CauseCrashed, and its history ends with an
// event of kind EventCrashed. An agent left busy gets an AgentEvent with
// state AgentSignedOut and reason CauseCrashed.
const (
	OutcomeCrashed    = "crashed"
	CauseCrashed      = "crashed"
	HangupSideHotline = "hotline"
	EventCrashed      = "crashed"
	AgentSignedOut    = "signed_out"
)

// agentBusyStates are the agent states (acd.State) tied to a call, as an SQL
// list: an agent whose last state is one of them when its node died is
// closed with the call's node.
const agentBusyStates = `('offered', 'on_call', 'on_hold', 'wrap_up', 'consult')`

// Orphans counts what CloseOrphans closed.
type Orphans struct {
	Calls  int // call rows closed as crashed
	Agents int // agents given a closing signed_out event
}

// OrphanStore closes what a crashed process left open.
type OrphanStore interface {
	// CloseOrphans closes every call of node (and every call saved before
	// calls recorded a node, with node "") that arrived before `before` and
	// has no end time: outcome OutcomeCrashed, hangup side
	// HangupSideHotline, cause CauseCrashed, and an end time that is the
	// last thing known about the call (the latest of its arrival, its
	// updated_at and its events' times), never later than before. Each gets
	// an EventCrashed event at that time, and a call.ended outbox message
	// with cause "crashed".
	//
	// Every agent whose last event is a busy state (offered, on_call,
	// on_hold, wrap_up, consult) about a call of node gets a closing event: state
	// AgentSignedOut, reason CauseCrashed, the same call, at the later of
	// that event and the call's end, never later than before.
	//
	// before is when the calling process started: calls it took itself
	// arrived later and are left alone. CloseOrphans is idempotent.
	CloseOrphans(ctx context.Context, node string, before time.Time) (Orphans, error)
}

// keepCrashClose ends SaveCall's upsert: a snapshot of a live call (no end
// time) does not replace a row closed as crashed. Such a snapshot is older
// than the crash (the crashed process wrote it, or journaled it); the call's
// final snapshot, with its end, still replaces the row.
const keepCrashClose = `WHERE calls.outcome <> '` + OutcomeCrashed + `' OR excluded.ended_at IS NOT NULL`

// CloseOrphans implements OrphanStore.
func (s *SQLite) CloseOrphans(ctx context.Context, node string, before time.Time) (Orphans, error) {
	return s.backend().closeOrphans(ctx, node, before)
}

// CloseOrphans implements OrphanStore.
func (s *Postgres) CloseOrphans(ctx context.Context, node string, before time.Time) (Orphans, error) {
	return s.backend().closeOrphans(ctx, node, before)
}

// orphanCall is an open call found by closeOrphans.
type orphanCall struct {
	id, from, to, queue, agent string
	last                       time.Time // the latest time known about the call
	seq                        int       // its last event's seq
}

// crashEnded is the payload of the call.ended message of a call closed as
// crashed; it has the fields of webhooks.CallPayload.
type crashEnded struct {
	CallID string    `json:"call_id"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Queue  string    `json:"queue"`
	Agent  string    `json:"agent"`
	Cause  string    `json:"cause"`
	At     time.Time `json:"at"`
}

func (b sqlBackend) closeOrphans(ctx context.Context, node string, before time.Time) (Orphans, error) {
	before = utcMicro(before)
	var got Orphans
	err := b.write(ctx, func(c sqlConn) error {
		calls, err := b.openCalls(ctx, c, node, before)
		if err != nil {
			return err
		}
		var msgs []OutboxMessage
		for _, o := range calls {
			end := o.last
			if end.After(before) {
				end = before
			}
			n, err := c.exec(ctx, `UPDATE calls SET ended_at = ?, outcome = ?, hangup_side = ?, hangup_cause = ?,
				updated_at = ? WHERE id = ? AND ended_at IS NULL`,
				b.d.time(end), OutcomeCrashed, HangupSideHotline, CauseCrashed, b.d.time(before), o.id)
			if err != nil {
				return fmt.Errorf("close call %s: %w", o.id, err)
			}
			if n == 0 {
				continue
			}
			got.Calls++
			seq := o.seq + 1
			if _, err := c.exec(ctx, `INSERT INTO call_events (call_id, seq, at, kind, detail) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (call_id, seq) DO NOTHING`, o.id, seq, b.d.time(end), EventCrashed,
				"closed by node "+node+" at its start"); err != nil {
				return fmt.Errorf("close call %s: event: %w", o.id, err)
			}
			payload, err := json.Marshal(crashEnded{CallID: o.id, From: o.from, To: o.to, Queue: o.queue,
				Agent: o.agent, Cause: CauseCrashed, At: end})
			if err != nil {
				return err
			}
			msgs = append(msgs, OutboxMessage{ID: fmt.Sprintf("call:%s:%d", o.id, seq), Topic: TopicCallEnded,
				Key: o.id, At: end, Payload: payload})
		}
		if err := b.d.insertOutbox(ctx, c, msgs...); err != nil {
			return err
		}
		got.Agents, err = b.closeAgents(ctx, c, node, before)
		return err
	})
	if err != nil {
		return Orphans{}, b.fail("close orphans", err)
	}
	return got, nil
}

// openCalls finds the open calls of node that arrived before before, with
// the latest time known about each and its last event's seq.
func (b sqlBackend) openCalls(ctx context.Context, c sqlConn, node string, before time.Time) ([]orphanCall, error) {
	rows, err := c.query(ctx, `SELECT id, from_uri, to_uri, queue, agent, arrived_at, updated_at,
			(SELECT max(at) FROM call_events e WHERE e.call_id = calls.id),
			(SELECT coalesce(max(seq), 0) FROM call_events e WHERE e.call_id = calls.id)
		FROM calls WHERE ended_at IS NULL AND node IN (?, '') AND arrived_at < ?
		ORDER BY arrived_at, id`+b.d.forUpdate, node, b.d.time(before))
	if err != nil {
		return nil, fmt.Errorf("open calls: %w", err)
	}
	defer rows.Close()
	var out []orphanCall
	for rows.Next() {
		var (
			o                orphanCall
			arrived, updated time.Time
			lastEvent        nullTime
			seq              int64
		)
		if err := rows.Scan(&o.id, &o.from, &o.to, &o.queue, &o.agent, &notNullTime{&arrived},
			&notNullTime{&updated}, &lastEvent, &seq); err != nil {
			return nil, fmt.Errorf("open calls: %w", err)
		}
		o.last, o.seq = arrived, int(seq)
		if updated.After(o.last) {
			o.last = updated
		}
		if lastEvent.T != nil && lastEvent.T.After(o.last) {
			o.last = *lastEvent.T
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("open calls: %w", err)
	}
	return out, nil
}

// busyAgent is an agent whose last event is a busy state.
type busyAgent struct {
	eventID, agent, call string
	at                   time.Time  // the busy event's time
	callEnd              *time.Time // the call's end (or last update)
}

// closeAgents gives every agent left busy on a call of node a closing
// signed_out event. The closing event's ID derives from the busy event's,
// and its time is after it, so running again finds nothing more to close.
func (b sqlBackend) closeAgents(ctx context.Context, c sqlConn, node string, before time.Time) (int, error) {
	rows, err := c.query(ctx, `SELECT e.id, e.agent_id, e.at, e.call_id, coalesce(k.ended_at, k.updated_at)
		FROM agent_events e JOIN calls k ON k.id = e.call_id
		WHERE e.state IN `+agentBusyStates+` AND e.at < ? AND k.node IN (?, '')
		AND NOT EXISTS (SELECT 1 FROM agent_events l WHERE l.agent_id = e.agent_id
			AND (l.at > e.at OR (l.at = e.at AND l.id > e.id)))
		ORDER BY e.agent_id`, b.d.time(before), node)
	if err != nil {
		return 0, fmt.Errorf("busy agents: %w", err)
	}
	var busy []busyAgent
	for rows.Next() {
		var a busyAgent
		var end nullTime
		if err := rows.Scan(&a.eventID, &a.agent, &notNullTime{&a.at}, &a.call, &end); err != nil {
			rows.Close()
			return 0, fmt.Errorf("busy agents: %w", err)
		}
		a.callEnd = end.T
		busy = append(busy, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("busy agents: %w", err)
	}
	closed := 0
	for _, a := range busy {
		at := a.at.Add(time.Microsecond) // strictly after: the closing event is the agent's last
		if a.callEnd != nil && a.callEnd.After(at) {
			at = *a.callEnd
		}
		if at.After(before) {
			at = before
		}
		n, err := c.exec(ctx, `INSERT INTO agent_events (id, agent_id, at, state, reason, call_id)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			"crashed:"+a.eventID, a.agent, b.d.time(at), AgentSignedOut, CauseCrashed, a.call)
		if err != nil {
			return 0, fmt.Errorf("close agent %s: %w", a.agent, err)
		}
		closed += int(n)
	}
	return closed, nil
}
