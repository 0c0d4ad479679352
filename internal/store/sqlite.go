package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
)

// SQLite is the embedded store: one database file in WAL mode, written
// through a single connection (SQLite allows one writer at a time) and read
// through a small pool of read-only connections.
type SQLite struct {
	path      string
	log       *slog.Logger
	w         *sql.DB // exactly one connection: every write
	r         *sql.DB // read-only connections
	closeOnce sync.Once
	closeErr  error
}

var _ Store = (*SQLite)(nil)

// sqliteBusyTimeout is how long a statement waits for a lock held by another
// connection or process before failing with SQLITE_BUSY.
const sqliteBusyTimeout = 10 * time.Second

// OpenSQLite opens (creating if needed) the SQLite database at path. The
// directory must exist. Call Migrate before use.
func OpenSQLite(ctx context.Context, path string, log *slog.Logger) (*SQLite, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("store: sqlite: path %q must not contain ? or #", path)
	}
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", sqliteBusyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", path+"?"+common+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	// Open the writer first so the file exists in WAL mode before readers attach.
	if err := pingWhileBusy(ctx, w); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("store: sqlite: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("store: sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	log.Info("store: sqlite opened", "path", path)
	return &SQLite{path: path, log: log, w: w, r: r}, nil
}

// pingWhileBusy makes db's first connection, trying again while another
// process holds the lock it needs, for up to sqliteBusyTimeout. Turning a new
// file to WAL mode takes an exclusive lock, and SQLite answers a second
// process doing the same at that moment with SQLITE_BUSY at once, without
// waiting the busy timeout.
func pingWhileBusy(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	for {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// sqliteBusy is SQLite's primary result code SQLITE_BUSY.
const sqliteBusy = 5

// Migrate applies the embedded SQLite migrations that are not yet recorded in
// schema_migrations, each in its own transaction.
func (s *SQLite) Migrate(ctx context.Context) error {
	migs, err := loadMigrations("sqlite")
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("store: sqlite: migrate: %w", err)
	}
	for _, m := range migs {
		if err := s.applyMigration(ctx, m); err != nil {
			return fmt.Errorf("store: sqlite: migrate %s: %w", m.Name, err)
		}
	}
	return nil
}

func (s *SQLite) applyMigration(ctx context.Context, m migration) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMicro()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.log.Info("store: migration applied", "backend", "sqlite", "migration", m.Name)
	return nil
}

// SaveCall inserts c or replaces the stored call with the same id.
func (s *SQLite) SaveCall(ctx context.Context, c Call) error {
	if err := validateCall(c); err != nil {
		return err
	}
	c = normalize(c)
	path, err := encodePath(c.IVRPath)
	if err != nil {
		return err
	}
	vars, err := encodeVars(c.Vars)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO calls (id, sip_call_id, from_uri, to_uri, trunk, source,
		arrived_at, answered_at, ended_at, flow, ivr_path, digits, vars, language, outcome, queue,
		hangup_cause, hangup_side, updated_at, queued_at, offered_at, connected_at, agent, disposition, note, node)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET
		sip_call_id = excluded.sip_call_id, from_uri = excluded.from_uri, to_uri = excluded.to_uri,
		trunk = excluded.trunk, source = excluded.source, arrived_at = excluded.arrived_at,
		answered_at = excluded.answered_at, ended_at = excluded.ended_at, flow = excluded.flow,
		ivr_path = excluded.ivr_path, digits = excluded.digits, vars = excluded.vars,
		language = excluded.language, outcome = excluded.outcome, queue = excluded.queue,
		hangup_cause = excluded.hangup_cause, hangup_side = excluded.hangup_side,
		updated_at = excluded.updated_at, queued_at = excluded.queued_at, offered_at = excluded.offered_at,
		connected_at = excluded.connected_at, agent = excluded.agent, disposition = excluded.disposition,
		note = excluded.note, node = excluded.node
	`+keepCrashClose,
		c.ID, c.SIPCallID, c.From, c.To, c.Trunk, c.Source,
		c.ArrivedAt.UnixMicro(), microsOrNil(c.AnsweredAt), microsOrNil(c.EndedAt), c.Flow, path,
		c.Digits, vars, c.Language, c.Outcome, c.Queue, c.HangupCause, c.HangupSide, c.UpdatedAt.UnixMicro(),
		microsOrNil(c.QueuedAt), microsOrNil(c.OfferedAt), microsOrNil(c.ConnectedAt), c.Agent, c.Disposition, c.Note, c.Node)
	if err != nil {
		return fmt.Errorf("store: sqlite: save call %s: %w", c.ID, err)
	}
	return nil
}

// AppendEvents stores ev in one transaction, ignoring events already stored,
// with the outbox messages of the events that publish one.
func (s *SQLite) AppendEvents(ctx context.Context, ev []Event) error {
	if len(ev) == 0 {
		return nil
	}
	if err := validateEvents(ev); err != nil {
		return err
	}
	if _, err := validatePublish(ev); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: sqlite: append events: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO call_events (call_id, seq, at, kind, detail)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (call_id, seq) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("store: sqlite: append events: %w", err)
	}
	defer func() { _ = stmt.Close() }()
	stored := map[eventKey]bool{}
	for _, e := range ev {
		res, err := stmt.ExecContext(ctx, e.CallID, e.Seq, e.At.UnixMicro(), e.Kind, e.Detail)
		if err != nil {
			return fmt.Errorf("store: sqlite: append event %s/%d: %w", e.CallID, e.Seq, err)
		}
		if e.Publish == "" {
			continue
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: sqlite: append event %s/%d: %w", e.CallID, e.Seq, err)
		}
		if n > 0 {
			stored[eventKey{e.CallID, e.Seq}] = true
		}
	}
	if err := sqliteDialect().insertOutbox(ctx, sqliteConn{tx}, eventMessages(ev, stored)...); err != nil {
		return fmt.Errorf("store: sqlite: append events: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: sqlite: append events: %w", err)
	}
	return nil
}

const sqliteCallColumns = `id, sip_call_id, from_uri, to_uri, trunk, source, arrived_at, answered_at,
	ended_at, flow, ivr_path, digits, vars, language, outcome, queue, hangup_cause, hangup_side, updated_at,
	queued_at, offered_at, connected_at, agent, disposition, note, node`

// ListCalls returns calls newest first by (arrived_at, id).
func (s *SQLite) ListCalls(ctx context.Context, p Page) ([]Call, string, error) {
	pos, after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(p)
	var rows *sql.Rows
	if after {
		rows, err = s.r.QueryContext(ctx, `SELECT `+sqliteCallColumns+` FROM calls
			WHERE (arrived_at, id) < (?, ?) ORDER BY arrived_at DESC, id DESC LIMIT ?`,
			pos.ArrivedMicros, pos.ID, limit+1)
	} else {
		rows, err = s.r.QueryContext(ctx, `SELECT `+sqliteCallColumns+` FROM calls
			ORDER BY arrived_at DESC, id DESC LIMIT ?`, limit+1)
	}
	if err != nil {
		return nil, "", fmt.Errorf("store: sqlite: list calls: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var calls []Call
	for rows.Next() {
		c, err := scanSQLiteCall(rows)
		if err != nil {
			return nil, "", err
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: sqlite: list calls: %w", err)
	}
	next := ""
	if len(calls) > limit {
		calls = calls[:limit]
		last := calls[limit-1]
		next = encodeCursor(last.ArrivedAt, last.ID)
	}
	return calls, next, nil
}

// GetCall returns the call with id and its events in Seq order.
func (s *SQLite) GetCall(ctx context.Context, id string) (Call, []Event, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+sqliteCallColumns+` FROM calls WHERE id = ?`, id)
	c, err := scanSQLiteCall(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Call{}, nil, fmt.Errorf("store: call %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Call{}, nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT call_id, seq, at, kind, detail FROM call_events
		WHERE call_id = ? ORDER BY seq`, id)
	if err != nil {
		return Call{}, nil, fmt.Errorf("store: sqlite: get call %s events: %w", id, err)
	}
	defer func() { _ = rows.Close() }()
	var events []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.CallID, &e.Seq, &at, &e.Kind, &e.Detail); err != nil {
			return Call{}, nil, fmt.Errorf("store: sqlite: get call %s events: %w", id, err)
		}
		e.At = time.UnixMicro(at).UTC()
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return Call{}, nil, fmt.Errorf("store: sqlite: get call %s events: %w", id, err)
	}
	return c, events, nil
}

// Ping checks that the database file answers a query.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("store: sqlite: ping: %w", err)
	}
	return nil
}

// Close closes both connection pools; later calls return the first result.
func (s *SQLite) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = errors.Join(s.r.Close(), s.w.Close())
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("store: sqlite: close: %w", s.closeErr)
		}
	})
	return s.closeErr
}

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner interface {
	Scan(dest ...any) error
}

func scanSQLiteCall(r rowScanner) (Call, error) {
	var (
		c                  Call
		arrived, updated   int64
		answered, ended    sql.NullInt64
		queued, offered    sql.NullInt64
		connected          sql.NullInt64
		pathJSON, varsJSON string
	)
	err := r.Scan(&c.ID, &c.SIPCallID, &c.From, &c.To, &c.Trunk, &c.Source, &arrived, &answered,
		&ended, &c.Flow, &pathJSON, &c.Digits, &varsJSON, &c.Language, &c.Outcome, &c.Queue,
		&c.HangupCause, &c.HangupSide, &updated, &queued, &offered, &connected, &c.Agent, &c.Disposition, &c.Note, &c.Node)
	if errors.Is(err, sql.ErrNoRows) {
		return Call{}, err
	}
	if err != nil {
		return Call{}, fmt.Errorf("store: sqlite: scan call: %w", err)
	}
	c.ArrivedAt = time.UnixMicro(arrived).UTC()
	c.UpdatedAt = time.UnixMicro(updated).UTC()
	c.AnsweredAt = timeOrNil(answered)
	c.EndedAt = timeOrNil(ended)
	c.QueuedAt, c.OfferedAt, c.ConnectedAt = timeOrNil(queued), timeOrNil(offered), timeOrNil(connected)
	if c.IVRPath, err = decodePath([]byte(pathJSON)); err != nil {
		return Call{}, err
	}
	if c.Vars, err = decodeVars([]byte(varsJSON)); err != nil {
		return Call{}, err
	}
	return c, nil
}

func microsOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func timeOrNil(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMicro(v.Int64).UTC()
	return &t
}
