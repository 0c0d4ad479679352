package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// StatsStore is what the KPI reports read (internal/kpi, GET /api/v1/stats):
// the calls that entered a queue in an interval. Agent state history by
// interval is ListAgentEvents with an empty agent id.
type StatsStore interface {
	// ListCallsBetween returns the calls with from <= QueuedAt < to, of the
	// given queues (all queues when queues is empty), ordered by QueuedAt
	// then ID. Calls that never entered a queue are not returned.
	ListCallsBetween(ctx context.Context, from, to time.Time, queues []string) ([]Call, error)
	// CallerCalls counts the calls from the caller number from (a call's
	// From) that arrived at or after since, leaving out the call except,
	// and returns the newest of them. The scan is bounded by since on the
	// calls_newest index: ask for a day, not a year.
	CallerCalls(ctx context.Context, from string, since time.Time, except string) (CallerCalls, error)
}

// CallerCalls is what the calls table knows of a caller's earlier calls.
type CallerCalls struct {
	Count int  // calls counted
	Last  Call // the newest of them; zero when Count is 0
}

// A call is queued after it arrived, so arrived_at < to bounds the scan on
// the calls_newest index; queued_at itself has no index.

// ListCallsBetween returns the calls queued in [from, to), oldest first.
func (s *SQLite) ListCallsBetween(ctx context.Context, from, to time.Time, queues []string) ([]Call, error) {
	q := `SELECT ` + sqliteCallColumns + ` FROM calls
		WHERE arrived_at < ? AND queued_at IS NOT NULL AND queued_at >= ? AND queued_at < ?`
	args := []any{to.UnixMicro(), from.UnixMicro(), to.UnixMicro()}
	if len(queues) > 0 {
		q += ` AND queue IN (?` + strings.Repeat(", ?", len(queues)-1) + `)`
		for _, name := range queues {
			args = append(args, name)
		}
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY queued_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: list calls between: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var calls []Call
	for rows.Next() {
		c, err := scanSQLiteCall(rows)
		if err != nil {
			return nil, err
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sqlite: list calls between: %w", err)
	}
	return calls, nil
}

// ListCallsBetween returns the calls queued in [from, to), oldest first.
func (s *Postgres) ListCallsBetween(ctx context.Context, from, to time.Time, queues []string) ([]Call, error) {
	if queues == nil {
		queues = []string{}
	}
	rows, err := s.pool.Query(ctx, `SELECT `+pgCallColumns+` FROM calls
		WHERE arrived_at < $2 AND queued_at IS NOT NULL AND queued_at >= $1 AND queued_at < $2
		AND (cardinality($3::text[]) = 0 OR queue = ANY($3::text[]))
		ORDER BY queued_at, id`, utcMicro(from), utcMicro(to), queues)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: list calls between: %w", err)
	}
	defer rows.Close()
	var calls []Call
	for rows.Next() {
		c, err := scanPgCall(rows)
		if err != nil {
			return nil, err
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: postgres: list calls between: %w", err)
	}
	return calls, nil
}

// CallerCalls counts a caller's calls since a time (see StatsStore).
func (s *SQLite) CallerCalls(ctx context.Context, from string, since time.Time, except string) (CallerCalls, error) {
	var out CallerCalls
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM calls WHERE arrived_at >= ? AND from_uri = ? AND id <> ?`,
		since.UnixMicro(), from, except).Scan(&out.Count); err != nil {
		return out, fmt.Errorf("store: sqlite: caller calls: %w", err)
	}
	if out.Count == 0 {
		return out, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+sqliteCallColumns+` FROM calls
		WHERE arrived_at >= ? AND from_uri = ? AND id <> ? ORDER BY arrived_at DESC, id DESC LIMIT 1`,
		since.UnixMicro(), from, except)
	if err != nil {
		return out, fmt.Errorf("store: sqlite: caller calls: %w", err)
	}
	defer func() { _ = rows.Close() }()
	if rows.Next() {
		if out.Last, err = scanSQLiteCall(rows); err != nil {
			return out, err
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("store: sqlite: caller calls: %w", err)
	}
	return out, nil
}

// CallerCalls counts a caller's calls since a time (see StatsStore).
func (s *Postgres) CallerCalls(ctx context.Context, from string, since time.Time, except string) (CallerCalls, error) {
	var out CallerCalls
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM calls WHERE arrived_at >= $1 AND from_uri = $2 AND id <> $3`,
		utcMicro(since), from, except).Scan(&out.Count); err != nil {
		return out, fmt.Errorf("store: postgres: caller calls: %w", err)
	}
	if out.Count == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+pgCallColumns+` FROM calls
		WHERE arrived_at >= $1 AND from_uri = $2 AND id <> $3 ORDER BY arrived_at DESC, id DESC LIMIT 1`,
		utcMicro(since), from, except)
	if err != nil {
		return out, fmt.Errorf("store: postgres: caller calls: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		if out.Last, err = scanPgCall(rows); err != nil {
			return out, err
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("store: postgres: caller calls: %w", err)
	}
	return out, nil
}
