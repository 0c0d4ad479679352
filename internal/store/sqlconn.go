package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The ticket and outbox code (tickets_sql.go, outbox.go) is written once for
// both backends: its statements use ? placeholders, which the PostgreSQL
// adapter numbers, and what differs between the databases (how a time or a
// boolean is passed, row locks, the outbox lock) is in a dialect. Scanning is
// the same on both: timestamps scan through nullTime, which takes SQLite's
// Unix microseconds and PostgreSQL's timestamptz alike.

// sqlConn is a connection, pool or transaction of either backend.
type sqlConn interface {
	// exec runs a statement and returns the number of rows it changed.
	exec(ctx context.Context, stmt string, args ...any) (int64, error)
	query(ctx context.Context, stmt string, args ...any) (sqlRows, error)
}

// sqlRows is what *sql.Rows and pgx.Rows have in common.
type sqlRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// dialect is what the shared statements need to know about one backend.
type dialect struct {
	name string // "sqlite" or "postgres", for errors
	// time and bool give an argument in the stored representation.
	time func(t time.Time) any
	bool func(b bool) any
	// forUpdate ends a SELECT that locks the rows it reads until commit.
	forUpdate string
	// lockOutbox, when set, runs before a transaction's first outbox insert.
	lockOutbox string
}

// timeOrNil gives an optional time argument: NULL for nil.
func (d dialect) timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.time(utcMicro(*t))
}

// pgOutboxLock is the advisory lock key a PostgreSQL transaction takes before
// inserting outbox rows and holds until it commits. Outbox inserts thus
// commit one after the other in seq order, and a reader never sees a seq
// while a smaller one is still to commit: a dispatcher that remembers the
// last seq it saw misses nothing.
const pgOutboxLock = 0x686f746c696e6f // "hotlino"

func sqliteDialect() dialect {
	return dialect{
		name: "sqlite",
		time: func(t time.Time) any { return utcMicro(t).UnixMicro() },
		bool: func(b bool) any { return boolInt(b) },
		// The single writer connection serializes every write transaction.
	}
}

func pgDialect() dialect {
	return dialect{
		name:       "postgres",
		time:       func(t time.Time) any { return utcMicro(t) },
		bool:       func(b bool) any { return b },
		forUpdate:  " FOR UPDATE",
		lockOutbox: "SELECT pg_advisory_xact_lock(" + strconv.FormatInt(pgOutboxLock, 10) + ")",
	}
}

// sqlBackend runs the shared ticket and outbox code on one store.
type sqlBackend struct {
	d dialect
	// read runs fn in a read-only transaction (one consistent snapshot).
	read func(ctx context.Context, fn func(sqlConn) error) error
	// write runs fn in a write transaction, committed when fn returns nil.
	write func(ctx context.Context, fn func(sqlConn) error) error
	// classify marks errors of the database refusing the data ErrRejected.
	classify func(error) error
}

// fail wraps a database error of operation what. Errors that already say
// what went wrong (ErrNotFound, ErrRejected, ErrBadCursor) pass unchanged.
func (b sqlBackend) fail(what string, err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrRejected) || errors.Is(err, ErrBadCursor) {
		return err
	}
	return fmt.Errorf("store: %s: %s: %w", b.d.name, what, b.classify(err))
}

// --- SQLite ---

// sqlQuerier is what *sql.DB and *sql.Tx have in common.
type sqlQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// sqliteConn adapts a database/sql handle to sqlConn.
type sqliteConn struct{ q sqlQuerier }

func (c sqliteConn) exec(ctx context.Context, stmt string, args ...any) (int64, error) {
	res, err := c.q.ExecContext(ctx, stmt, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c sqliteConn) query(ctx context.Context, stmt string, args ...any) (sqlRows, error) {
	rows, err := c.q.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, err
	}
	return sqliteRows{rows}, nil
}

// sqliteRows drops the error of Close, as pgx.Rows does; a failed read
// shows in Err.
type sqliteRows struct{ *sql.Rows }

func (r sqliteRows) Close() { _ = r.Rows.Close() }

// sqliteTx runs fn in a transaction of db: on the writer an immediate one
// (the connection string asks for it), on the readers a snapshot.
func sqliteTx(ctx context.Context, db *sql.DB, fn func(sqlConn) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(sqliteConn{tx}); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *SQLite) backend() sqlBackend {
	return sqlBackend{
		d:        sqliteDialect(),
		read:     func(ctx context.Context, fn func(sqlConn) error) error { return sqliteTx(ctx, s.r, fn) },
		write:    func(ctx context.Context, fn func(sqlConn) error) error { return sqliteTx(ctx, s.w, fn) },
		classify: func(err error) error { return err },
	}
}

// --- PostgreSQL ---

// pgQuerier is what a pgx pool, connection and transaction have in common.
type pgQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// pgConn adapts pgx to sqlConn, numbering the ? placeholders.
type pgConn struct{ q pgQuerier }

func (c pgConn) exec(ctx context.Context, stmt string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, rebind(stmt), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (c pgConn) query(ctx context.Context, stmt string, args ...any) (sqlRows, error) {
	return c.q.Query(ctx, rebind(stmt), args...)
}

// rebind turns the ? placeholders of stmt into $1, $2, ... The shared
// statements have no ? anywhere else (no string literals holding one).
func rebind(stmt string) string {
	if !strings.Contains(stmt, "?") {
		return stmt
	}
	var b strings.Builder
	b.Grow(len(stmt) + 16)
	n := 0
	for _, r := range stmt {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *Postgres) backend() sqlBackend {
	return sqlBackend{
		d: pgDialect(),
		read: func(ctx context.Context, fn func(sqlConn) error) error {
			return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
				func(tx pgx.Tx) error { return fn(pgConn{tx}) })
		},
		write: func(ctx context.Context, fn func(sqlConn) error) error {
			return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(pgConn{tx}) })
		},
		classify: pgClassify,
	}
}

// --- scanning ---

// nullTime scans a timestamp column of either backend; nil for NULL.
type nullTime struct{ T *time.Time }

// Scan implements sql.Scanner (pgx uses it too).
func (n *nullTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		n.T = nil
	case int64:
		t := time.UnixMicro(x).UTC()
		n.T = &t
	case time.Time:
		t := x.UTC()
		n.T = &t
	default:
		return fmt.Errorf("store: scan timestamp: unexpected %T", v)
	}
	return nil
}

// notNullTime scans a NOT NULL timestamp column into *t.
type notNullTime struct{ t *time.Time }

// Scan implements sql.Scanner.
func (n *notNullTime) Scan(v any) error {
	var nt nullTime
	if err := nt.Scan(v); err != nil {
		return err
	}
	if nt.T == nil {
		return errors.New("store: scan timestamp: unexpected NULL")
	}
	*n.t = *nt.T
	return nil
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
