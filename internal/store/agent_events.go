package store

import (
	"context"
	"fmt"
	"time"
)

// AgentEvent is one agent state transition, kept append-only so handle time
// and occupancy can be computed from the raw history (see KPI.md). The ACD
// hands them to the Writer; ID makes a retried write a no-op.
type AgentEvent struct {
	ID      string // unique (uuid v7 string), chosen by the producer
	AgentID string // the agent as the ACD names it (the username; see httpapi.Principal)
	At      time.Time
	State   string // the state entered: "ready", "not-ready", "offered", "on-call", "wrap-up", ...
	Reason  string // not-ready reason, "missed call", "disconnected", ...; "" when none
	CallID  string // the call the transition is about; "" when none
}

// AgentEventStore keeps the agent state history.
type AgentEventStore interface {
	// AppendAgentEvents stores events; one whose ID is stored is ignored.
	AppendAgentEvents(ctx context.Context, ev []AgentEvent) error
	// ListAgentEvents returns the events with from <= At < to, of one agent
	// (or of all agents when agentID is ""), ordered by At then ID.
	ListAgentEvents(ctx context.Context, agentID string, from, to time.Time) ([]AgentEvent, error)
}

func validateAgentEvents(ev []AgentEvent) error {
	for i, e := range ev {
		if e.ID == "" || e.AgentID == "" || e.State == "" {
			return fmt.Errorf("store: agent event %d: id, agent id and state are required: %w", i, ErrRejected)
		}
	}
	return nil
}

// --- SQLite ---

// AppendAgentEvents stores ev in one transaction, ignoring stored ids.
func (s *SQLite) AppendAgentEvents(ctx context.Context, ev []AgentEvent) error {
	if len(ev) == 0 {
		return nil
	}
	if err := validateAgentEvents(ev); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: sqlite: append agent events: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO agent_events (id, agent_id, at, state, reason, call_id)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("store: sqlite: append agent events: %w", err)
	}
	defer func() { _ = stmt.Close() }()
	for _, e := range ev {
		if _, err := stmt.ExecContext(ctx, e.ID, e.AgentID, e.At.UnixMicro(), e.State, e.Reason, e.CallID); err != nil {
			return fmt.Errorf("store: sqlite: append agent event %s: %w", e.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: sqlite: append agent events: %w", err)
	}
	return nil
}

// ListAgentEvents returns the events in [from, to), oldest first.
func (s *SQLite) ListAgentEvents(ctx context.Context, agentID string, from, to time.Time) ([]AgentEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, agent_id, at, state, reason, call_id FROM agent_events
		WHERE (? = '' OR agent_id = ?) AND at >= ? AND at < ? ORDER BY at, id`,
		agentID, agentID, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: list agent events: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []AgentEvent
	for rows.Next() {
		var (
			e  AgentEvent
			at int64
		)
		if err := rows.Scan(&e.ID, &e.AgentID, &at, &e.State, &e.Reason, &e.CallID); err != nil {
			return nil, fmt.Errorf("store: sqlite: list agent events: %w", err)
		}
		e.At = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sqlite: list agent events: %w", err)
	}
	return out, nil
}

// --- PostgreSQL ---

// AppendAgentEvents stores ev in one statement, ignoring stored ids.
func (s *Postgres) AppendAgentEvents(ctx context.Context, ev []AgentEvent) error {
	if len(ev) == 0 {
		return nil
	}
	if err := validateAgentEvents(ev); err != nil {
		return err
	}
	n := len(ev)
	ids, agents, states, reasons, calls := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n)
	ats := make([]time.Time, n)
	for i, e := range ev {
		ids[i], agents[i], ats[i], states[i], reasons[i], calls[i] = e.ID, e.AgentID, utcMicro(e.At), e.State, e.Reason, e.CallID
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO agent_events (id, agent_id, at, state, reason, call_id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[])
		ON CONFLICT (id) DO NOTHING`, ids, agents, ats, states, reasons, calls)
	if err != nil {
		return fmt.Errorf("store: postgres: append %d agent events: %w", n, pgClassify(err))
	}
	return nil
}

// ListAgentEvents returns the events in [from, to), oldest first.
func (s *Postgres) ListAgentEvents(ctx context.Context, agentID string, from, to time.Time) ([]AgentEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, agent_id, at, state, reason, call_id FROM agent_events
		WHERE ($1 = '' OR agent_id = $1) AND at >= $2 AND at < $3 ORDER BY at, id`,
		agentID, utcMicro(from), utcMicro(to))
	if err != nil {
		return nil, fmt.Errorf("store: postgres: list agent events: %w", err)
	}
	defer rows.Close()
	var out []AgentEvent
	for rows.Next() {
		var e AgentEvent
		if err := rows.Scan(&e.ID, &e.AgentID, &e.At, &e.State, &e.Reason, &e.CallID); err != nil {
			return nil, fmt.Errorf("store: postgres: list agent events: %w", err)
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: postgres: list agent events: %w", err)
	}
	return out, nil
}
