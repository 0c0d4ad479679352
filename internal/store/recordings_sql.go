package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// This file implements RecordingStore and AuditStore (recordings.go) on both
// backends. A recording's segments and markers are stored as JSON arrays; the
// agents of its segments are also kept, each once, in recording_agents, so a
// ListRecordings by agent matches a name exactly (anna is not annabel).
// SaveRecording rewrites those rows in the transaction that writes the
// recording.

// LogValue shows a recording in logs with its times, not pointer addresses,
// so a record logged because it could not be written can be recovered from
// the log.
func (r Recording) LogValue() slog.Value {
	opt := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return slog.GroupValue(
		slog.String("id", r.ID), slog.String("call_id", r.CallID), slog.String("path", r.Path),
		slog.String("format", r.Format), slog.String("state", r.State), slog.String("reason", r.Reason),
		slog.String("queue", r.Queue), slog.Any("segments", r.Segments), slog.Any("markers", r.Markers),
		slog.Time("started_at", r.StartedAt), slog.String("ended_at", opt(r.EndedAt)),
		slog.Int64("duration_ms", r.DurationMS), slog.Int64("bytes", r.Bytes), slog.String("sha256", r.SHA256),
		slog.String("retain_until", opt(r.RetainUntil)), slog.Bool("legal_hold", r.LegalHold),
		slog.Time("updated_at", r.UpdatedAt),
	)
}

// normalizeRecording gives r the representation both backends store: UTC
// times at microsecond precision, nil for empty segments and markers.
func normalizeRecording(r Recording) Recording {
	r.StartedAt = utcMicro(r.StartedAt)
	r.UpdatedAt = utcMicro(r.UpdatedAt)
	for _, p := range []**time.Time{&r.EndedAt, &r.RetainUntil} {
		if *p != nil {
			t := utcMicro(**p)
			*p = &t
		}
	}
	if len(r.Segments) == 0 {
		r.Segments = nil
	}
	if len(r.Markers) == 0 {
		r.Markers = nil
	}
	return r
}

// clone returns r sharing no memory with the caller's copy, so the caller
// may go on changing its segments (closing the last one) while the Writer
// holds the snapshot.
func (r Recording) clone() Recording {
	r.Segments = slices.Clone(r.Segments)
	r.Markers = slices.Clone(r.Markers)
	for _, p := range []**time.Time{&r.EndedAt, &r.RetainUntil} {
		if *p != nil {
			t := **p
			*p = &t
		}
	}
	return r
}

// indexedAgents are the agents of r's segments that go to recording_agents:
// each once, without the empty name.
func indexedAgents(r Recording) []string {
	return slices.DeleteFunc(r.Agents(), func(a string) bool { return a == "" })
}

func validateRecording(r Recording) error {
	if r.ID == "" {
		return fmt.Errorf("store: save recording: empty id: %w", ErrRejected)
	}
	return nil
}

func validateAudit(ev []AuditEvent) error {
	for i, e := range ev {
		if e.ID == "" {
			return fmt.Errorf("store: append audit: event %d: empty id: %w", i, ErrRejected)
		}
	}
	return nil
}

// encodeList gives the JSON both backends store for segments and markers;
// an empty list is stored as [].
func encodeList[T any](what string, v []T) (string, error) {
	if len(v) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("store: encode %s: %w", what, err)
	}
	return string(b), nil
}

// decodeList returns nil for an empty list.
func decodeList[T any](what string, b []byte) ([]T, error) {
	var v []T
	if len(b) > 0 {
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("store: decode %s: %w", what, err)
		}
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// encodeRecordingLists returns the stored JSON of r's segments and markers.
func encodeRecordingLists(r Recording) (segments, markers string, err error) {
	if segments, err = encodeList("recording segments", r.Segments); err != nil {
		return "", "", err
	}
	if markers, err = encodeList("recording markers", r.Markers); err != nil {
		return "", "", err
	}
	return segments, markers, nil
}

// recordingColumns are the columns of recordings, in the order both backends
// write and scan them.
const recordingColumns = `id, call_id, path, format, state, reason, queue, segments, markers, started_at,
	ended_at, duration_ms, bytes, sha256, retain_until, legal_hold, updated_at`

// recordingUpdate is the ON CONFLICT clause of SaveRecording: every column
// but legal_hold, which only SetLegalHold changes.
const recordingUpdate = `ON CONFLICT (id) DO UPDATE SET
		call_id = excluded.call_id, path = excluded.path, format = excluded.format, state = excluded.state,
		reason = excluded.reason, queue = excluded.queue, segments = excluded.segments,
		markers = excluded.markers, started_at = excluded.started_at, ended_at = excluded.ended_at,
		duration_ms = excluded.duration_ms, bytes = excluded.bytes, sha256 = excluded.sha256,
		retain_until = excluded.retain_until, updated_at = excluded.updated_at`

const auditColumns = `id, at, actor, role, action, object, call_id, detail, source`

// query builds a statement's WHERE clause and arguments for one backend's
// placeholder style.
type query struct {
	placeholder func(n int) string // the n-th argument (1-based)
	at          func(t time.Time) any
	conds       []string
	args        []any
}

func sqliteQuery() *query {
	return &query{
		placeholder: func(int) string { return "?" },
		at:          func(t time.Time) any { return t.UnixMicro() },
	}
}

func pgQuery() *query {
	return &query{
		placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
		at:          func(t time.Time) any { return utcMicro(t) },
	}
}

// arg adds an argument and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return q.placeholder(len(q.args))
}

// timeArg adds a time argument in the backend's representation.
func (q *query) timeArg(t time.Time) string { return q.arg(q.at(utcMicro(t))) }

func (q *query) where(cond string) { q.conds = append(q.conds, cond) }

func (q *query) whereClause() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}

// listRecordings builds ListRecordings' statement: the recordings matching
// f after the cursor position (when after), newest first, limit+1 rows so
// the caller can tell whether another page follows.
func (q *query) listRecordings(f RecordingFilter, pos cursorPos, after bool, limit int) string {
	if f.CallID != "" {
		q.where("call_id = " + q.arg(f.CallID))
	}
	if f.Agent != "" {
		q.where("id IN (SELECT recording_id FROM recording_agents WHERE agent = " + q.arg(f.Agent) + ")")
	}
	if f.Queue != "" {
		q.where("queue = " + q.arg(f.Queue))
	}
	if f.State != "" {
		q.where("state = " + q.arg(f.State))
	}
	if !f.From.IsZero() {
		q.where("started_at >= " + q.timeArg(f.From))
	}
	if !f.To.IsZero() {
		q.where("started_at < " + q.timeArg(f.To))
	}
	if after {
		q.where("(started_at, id) < (" + q.timeArg(time.UnixMicro(pos.ArrivedMicros)) + ", " + q.arg(pos.ID) + ")")
	}
	return `SELECT ` + recordingColumns + ` FROM recordings` + q.whereClause() +
		` ORDER BY started_at DESC, id DESC LIMIT ` + q.arg(limit+1)
}

// listAudit builds ListAudit's statement.
func (q *query) listAudit(f AuditFilter) string {
	if f.Object != "" {
		q.where("object = " + q.arg(f.Object))
	}
	if f.Actor != "" {
		q.where("actor = " + q.arg(f.Actor))
	}
	if f.Action != "" {
		q.where("action = " + q.arg(f.Action))
	}
	if !f.From.IsZero() {
		q.where("at >= " + q.timeArg(f.From))
	}
	if !f.To.IsZero() {
		q.where("at < " + q.timeArg(f.To))
	}
	return `SELECT ` + auditColumns + ` FROM audit_log` + q.whereClause() +
		` ORDER BY at, id LIMIT ` + q.arg(pageLimit(Page{Limit: f.Limit}))
}

// nextRecordingCursor trims a page read with limit+1 rows to limit and
// returns the cursor of the next page ("" when there is none).
func nextRecordingCursor(recs []Recording, limit int) ([]Recording, string) {
	if len(recs) <= limit {
		return recs, ""
	}
	recs = recs[:limit]
	last := recs[limit-1]
	return recs, encodeCursor(last.StartedAt, last.ID)
}

// expiredLimit is ExpiredRecordings' limit: DefaultPageLimit when <= 0, at
// most MaxPageLimit.
func expiredLimit(limit int) int { return pageLimit(Page{Limit: limit}) }

// --- SQLite ---

// SaveRecording inserts r or replaces the stored recording with the same id,
// keeping its legal hold, and rewrites its agents, in one transaction; a
// finished recording also writes its recording.ready message, once.
func (s *SQLite) SaveRecording(ctx context.Context, r Recording) error {
	if err := validateRecording(r); err != nil {
		return err
	}
	r = normalizeRecording(r)
	segments, markers, err := encodeRecordingLists(r)
	if err != nil {
		return err
	}
	msgs, err := recordingMessages(r)
	if err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: sqlite: save recording %s: %w", r.ID, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `INSERT INTO recordings (`+recordingColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) `+recordingUpdate,
		r.ID, r.CallID, r.Path, r.Format, r.State, r.Reason, r.Queue, segments, markers,
		r.StartedAt.UnixMicro(), microsOrNil(r.EndedAt), r.DurationMS, r.Bytes, r.SHA256,
		microsOrNil(r.RetainUntil), boolInt(r.LegalHold), r.UpdatedAt.UnixMicro()); err != nil {
		return fmt.Errorf("store: sqlite: save recording %s: %w", r.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recording_agents WHERE recording_id = ?`, r.ID); err != nil {
		return fmt.Errorf("store: sqlite: save recording %s agents: %w", r.ID, err)
	}
	for _, a := range indexedAgents(r) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recording_agents (recording_id, agent) VALUES (?, ?)`,
			r.ID, a); err != nil {
			return fmt.Errorf("store: sqlite: save recording %s agents: %w", r.ID, err)
		}
	}
	if err := sqliteDialect().insertOutbox(ctx, sqliteConn{tx}, msgs...); err != nil {
		return fmt.Errorf("store: sqlite: save recording %s: %w", r.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: sqlite: save recording %s: %w", r.ID, err)
	}
	return nil
}

// GetRecording returns the recording with id, or ErrNotFound.
func (s *SQLite) GetRecording(ctx context.Context, id string) (Recording, error) {
	r, err := scanSQLiteRecording(s.r.QueryRowContext(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Recording{}, fmt.Errorf("store: recording %s: %w", id, ErrNotFound)
	}
	return r, err
}

// ListRecordings returns recordings matching f, newest first by
// (started_at, id).
func (s *SQLite) ListRecordings(ctx context.Context, f RecordingFilter) ([]Recording, string, error) {
	pos, after, err := decodeCursor(f.Page.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(f.Page)
	q := sqliteQuery()
	stmt := q.listRecordings(f, pos, after, limit)
	recs, err := s.queryRecordings(ctx, "list recordings", stmt, q.args...)
	if err != nil {
		return nil, "", err
	}
	recs, next := nextRecordingCursor(recs, limit)
	return recs, next, nil
}

// ExpiredRecordings returns recordings past their retention, oldest
// deadline first.
func (s *SQLite) ExpiredRecordings(ctx context.Context, now time.Time, limit int) ([]Recording, error) {
	return s.queryRecordings(ctx, "expired recordings", `SELECT `+recordingColumns+` FROM recordings
		WHERE retain_until IS NOT NULL AND retain_until <= ? AND legal_hold = 0 AND state <> ? AND state <> ?
		ORDER BY retain_until, id LIMIT ?`,
		utcMicro(now).UnixMicro(), RecordingActive, RecordingDeleted, expiredLimit(limit))
}

// SetLegalHold sets or clears the legal hold of the recording with id.
func (s *SQLite) SetLegalHold(ctx context.Context, id string, hold bool) error {
	res, err := s.w.ExecContext(ctx, `UPDATE recordings SET legal_hold = ? WHERE id = ?`, boolInt(hold), id)
	if err != nil {
		return fmt.Errorf("store: sqlite: set legal hold %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: sqlite: set legal hold %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: recording %s: %w", id, ErrNotFound)
	}
	return nil
}

func (s *SQLite) queryRecordings(ctx context.Context, what, stmt string, args ...any) ([]Recording, error) {
	rows, err := s.r.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: %s: %w", what, err)
	}
	defer func() { _ = rows.Close() }()
	var out []Recording
	for rows.Next() {
		r, err := scanSQLiteRecording(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sqlite: %s: %w", what, err)
	}
	return out, nil
}

func scanSQLiteRecording(row rowScanner) (Recording, error) {
	var (
		r                  Recording
		segments, markers  string
		started, updated   int64
		ended, retainUntil sql.NullInt64
		hold               int
	)
	err := row.Scan(&r.ID, &r.CallID, &r.Path, &r.Format, &r.State, &r.Reason, &r.Queue, &segments, &markers,
		&started, &ended, &r.DurationMS, &r.Bytes, &r.SHA256, &retainUntil, &hold, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Recording{}, err
	}
	if err != nil {
		return Recording{}, fmt.Errorf("store: sqlite: scan recording: %w", err)
	}
	r.StartedAt, r.UpdatedAt = time.UnixMicro(started).UTC(), time.UnixMicro(updated).UTC()
	r.EndedAt, r.RetainUntil = timeOrNil(ended), timeOrNil(retainUntil)
	r.LegalHold = hold != 0
	if r.Segments, err = decodeList[RecordingSegment]("recording segments", []byte(segments)); err != nil {
		return Recording{}, err
	}
	if r.Markers, err = decodeList[RecordingMarker]("recording markers", []byte(markers)); err != nil {
		return Recording{}, err
	}
	return r, nil
}

// AppendAudit stores ev in one transaction, ignoring stored ids.
func (s *SQLite) AppendAudit(ctx context.Context, ev []AuditEvent) error {
	if len(ev) == 0 {
		return nil
	}
	if err := validateAudit(ev); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: sqlite: append audit: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_log (`+auditColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("store: sqlite: append audit: %w", err)
	}
	defer func() { _ = stmt.Close() }()
	for _, e := range ev {
		if _, err := stmt.ExecContext(ctx, e.ID, utcMicro(e.At).UnixMicro(), e.Actor, e.Role, e.Action, e.Object,
			e.CallID, e.Detail, e.Source); err != nil {
			return fmt.Errorf("store: sqlite: append audit event %s: %w", e.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: sqlite: append audit: %w", err)
	}
	return nil
}

// ListAudit returns the audit events matching f, oldest first by (at, id).
func (s *SQLite) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	q := sqliteQuery()
	stmt := q.listAudit(f)
	rows, err := s.r.QueryContext(ctx, stmt, q.args...)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: list audit: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []AuditEvent
	for rows.Next() {
		var (
			e  AuditEvent
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Role, &e.Action, &e.Object, &e.CallID, &e.Detail,
			&e.Source); err != nil {
			return nil, fmt.Errorf("store: sqlite: list audit: %w", err)
		}
		e.At = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sqlite: list audit: %w", err)
	}
	return out, nil
}

// --- PostgreSQL ---

// SaveRecording inserts r or replaces the stored recording with the same id,
// keeping its legal hold, and rewrites its agents, in one transaction; a
// finished recording also writes its recording.ready message, once.
func (s *Postgres) SaveRecording(ctx context.Context, r Recording) error {
	if err := validateRecording(r); err != nil {
		return err
	}
	r = normalizeRecording(r)
	segments, markers, err := encodeRecordingLists(r)
	if err != nil {
		return err
	}
	agents := indexedAgents(r)
	if agents == nil {
		agents = []string{} // an empty text[], not NULL
	}
	msgs, err := recordingMessages(r)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The upsert locks the row, so concurrent saves of one recording
		// rewrite its agents one after the other.
		if _, err := tx.Exec(ctx, `INSERT INTO recordings (`+recordingColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $13, $14, $15, $16, $17) `+
			recordingUpdate,
			r.ID, r.CallID, r.Path, r.Format, r.State, r.Reason, r.Queue, segments, markers,
			r.StartedAt, r.EndedAt, r.DurationMS, r.Bytes, r.SHA256, r.RetainUntil, r.LegalHold, r.UpdatedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recording_agents WHERE recording_id = $1 AND agent <> ALL ($2::text[])`,
			r.ID, agents); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO recording_agents (recording_id, agent)
			SELECT $1, a FROM unnest($2::text[]) AS a ON CONFLICT DO NOTHING`, r.ID, agents); err != nil {
			return err
		}
		return pgDialect().insertOutbox(ctx, pgConn{tx}, msgs...)
	})
	if err != nil {
		return fmt.Errorf("store: postgres: save recording %s: %w", r.ID, pgClassify(err))
	}
	return nil
}

// GetRecording returns the recording with id, or ErrNotFound.
func (s *Postgres) GetRecording(ctx context.Context, id string) (Recording, error) {
	r, err := scanPgRecording(s.pool.QueryRow(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Recording{}, fmt.Errorf("store: recording %s: %w", id, ErrNotFound)
	}
	return r, err
}

// ListRecordings returns recordings matching f, newest first by
// (started_at, id).
func (s *Postgres) ListRecordings(ctx context.Context, f RecordingFilter) ([]Recording, string, error) {
	pos, after, err := decodeCursor(f.Page.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(f.Page)
	q := pgQuery()
	stmt := q.listRecordings(f, pos, after, limit)
	recs, err := s.queryRecordings(ctx, "list recordings", stmt, q.args...)
	if err != nil {
		return nil, "", err
	}
	recs, next := nextRecordingCursor(recs, limit)
	return recs, next, nil
}

// ExpiredRecordings returns recordings past their retention, oldest
// deadline first.
func (s *Postgres) ExpiredRecordings(ctx context.Context, now time.Time, limit int) ([]Recording, error) {
	return s.queryRecordings(ctx, "expired recordings", `SELECT `+recordingColumns+` FROM recordings
		WHERE retain_until IS NOT NULL AND retain_until <= $1 AND NOT legal_hold AND state <> $2 AND state <> $3
		ORDER BY retain_until, id LIMIT $4`,
		utcMicro(now), RecordingActive, RecordingDeleted, expiredLimit(limit))
}

// SetLegalHold sets or clears the legal hold of the recording with id.
func (s *Postgres) SetLegalHold(ctx context.Context, id string, hold bool) error {
	tag, err := s.pool.Exec(ctx, `UPDATE recordings SET legal_hold = $2 WHERE id = $1`, id, hold)
	if err != nil {
		return fmt.Errorf("store: postgres: set legal hold %s: %w", id, pgClassify(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: recording %s: %w", id, ErrNotFound)
	}
	return nil
}

func (s *Postgres) queryRecordings(ctx context.Context, what, stmt string, args ...any) ([]Recording, error) {
	rows, err := s.pool.Query(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %s: %w", what, err)
	}
	defer rows.Close()
	var out []Recording
	for rows.Next() {
		r, err := scanPgRecording(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: postgres: %s: %w", what, err)
	}
	return out, nil
}

func scanPgRecording(row pgx.Row) (Recording, error) {
	var (
		r                 Recording
		segments, markers []byte
	)
	err := row.Scan(&r.ID, &r.CallID, &r.Path, &r.Format, &r.State, &r.Reason, &r.Queue, &segments, &markers,
		&r.StartedAt, &r.EndedAt, &r.DurationMS, &r.Bytes, &r.SHA256, &r.RetainUntil, &r.LegalHold, &r.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Recording{}, err
	}
	if err != nil {
		return Recording{}, fmt.Errorf("store: postgres: scan recording: %w", err)
	}
	r.StartedAt, r.UpdatedAt = r.StartedAt.UTC(), r.UpdatedAt.UTC()
	for _, p := range []**time.Time{&r.EndedAt, &r.RetainUntil} {
		if *p != nil {
			t := (*p).UTC()
			*p = &t
		}
	}
	if r.Segments, err = decodeList[RecordingSegment]("recording segments", segments); err != nil {
		return Recording{}, err
	}
	if r.Markers, err = decodeList[RecordingMarker]("recording markers", markers); err != nil {
		return Recording{}, err
	}
	return r, nil
}

// AppendAudit stores ev in one statement, ignoring stored ids.
func (s *Postgres) AppendAudit(ctx context.Context, ev []AuditEvent) error {
	if len(ev) == 0 {
		return nil
	}
	if err := validateAudit(ev); err != nil {
		return err
	}
	n := len(ev)
	ids, actors, roles, actions, objects := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n)
	calls, details, sources := make([]string, n), make([]string, n), make([]string, n)
	ats := make([]time.Time, n)
	for i, e := range ev {
		ids[i], ats[i], actors[i], roles[i], actions[i] = e.ID, utcMicro(e.At), e.Actor, e.Role, e.Action
		objects[i], calls[i], details[i], sources[i] = e.Object, e.CallID, e.Detail, e.Source
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO audit_log (`+auditColumns+`)
		SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::text[], $8::text[], $9::text[])
		ON CONFLICT (id) DO NOTHING`, ids, ats, actors, roles, actions, objects, calls, details, sources)
	if err != nil {
		return fmt.Errorf("store: postgres: append %d audit events: %w", n, pgClassify(err))
	}
	return nil
}

// ListAudit returns the audit events matching f, oldest first by (at, id).
func (s *Postgres) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	q := pgQuery()
	stmt := q.listAudit(f)
	rows, err := s.pool.Query(ctx, stmt, q.args...)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Role, &e.Action, &e.Object, &e.CallID, &e.Detail,
			&e.Source); err != nil {
			return nil, fmt.Errorf("store: postgres: list audit: %w", err)
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: postgres: list audit: %w", err)
	}
	return out, nil
}
