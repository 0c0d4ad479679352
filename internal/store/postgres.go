package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the PostgreSQL store, over a pgx connection pool.
type Postgres struct {
	pool      *pgxpool.Pool
	log       *slog.Logger
	closeOnce sync.Once
}

var _ Store = (*Postgres)(nil)

// pgConnectTimeout bounds one connection attempt, so a stopped server fails
// writes quickly (the Writer retries) instead of hanging them.
const pgConnectTimeout = 5 * time.Second

// pgMigrateLock is the advisory lock key that serializes concurrent Migrate
// calls from several hotline nodes.
const pgMigrateLock = 0x686f746c696e65 // "hotline"

// OpenPostgres connects a pool to the database at url ("postgres://…") and
// checks that it answers. Call Migrate before use.
func OpenPostgres(ctx context.Context, url string, log *slog.Logger) (*Postgres, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL; keep the password out of it.
		return nil, fmt.Errorf("store: postgres: bad url %s", redact(url))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > pgConnectTimeout {
		cfg.ConnConfig.ConnectTimeout = pgConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: postgres: connect %s:%d/%s: %w",
			cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	log.Info("store: postgres connected", "host", cfg.ConnConfig.Host, "port", cfg.ConnConfig.Port,
		"database", cfg.ConnConfig.Database)
	return &Postgres{pool: pool, log: log}, nil
}

// Migrate applies the embedded PostgreSQL migrations that are not yet
// recorded in schema_migrations. All run in one transaction under an advisory
// lock, so concurrent migrators wait for each other.
func (s *Postgres) Migrate(ctx context.Context) error {
	migs, err := loadMigrations("postgres")
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pgMigrateLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		for _, m := range migs {
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`,
				m.Version).Scan(&done); err != nil {
				return err
			}
			if done {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`,
				m.Version, m.Name); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			s.log.Info("store: migration applied", "backend", "postgres", "migration", m.Name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: postgres: migrate: %w", err)
	}
	return nil
}

// SaveCall inserts c or replaces the stored call with the same id.
func (s *Postgres) SaveCall(ctx context.Context, c Call) error {
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
	_, err = s.pool.Exec(ctx, `INSERT INTO calls (id, sip_call_id, from_uri, to_uri, trunk, source,
		arrived_at, answered_at, ended_at, flow, ivr_path, digits, vars, language, outcome, queue,
		hangup_cause, hangup_side, updated_at, queued_at, offered_at, connected_at, agent, disposition, note, node)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13::jsonb, $14, $15, $16, $17, $18, $19,
		$20, $21, $22, $23, $24, $25, $26)
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
		c.ID, c.SIPCallID, c.From, c.To, c.Trunk, c.Source, c.ArrivedAt, c.AnsweredAt, c.EndedAt,
		c.Flow, path, c.Digits, vars, c.Language, c.Outcome, c.Queue, c.HangupCause, c.HangupSide,
		c.UpdatedAt, c.QueuedAt, c.OfferedAt, c.ConnectedAt, c.Agent, c.Disposition, c.Note, c.Node)
	if err != nil {
		return fmt.Errorf("store: postgres: save call %s: %w", c.ID, pgClassify(err))
	}
	return nil
}

// AppendEvents stores ev in one statement, ignoring events already stored;
// when some publish an outbox message, in one transaction with the messages.
func (s *Postgres) AppendEvents(ctx context.Context, ev []Event) error {
	if len(ev) == 0 {
		return nil
	}
	if err := validateEvents(ev); err != nil {
		return err
	}
	publish, err := validatePublish(ev)
	if err != nil {
		return err
	}
	ids := make([]string, len(ev))
	seqs := make([]int64, len(ev))
	ats := make([]time.Time, len(ev))
	kinds := make([]string, len(ev))
	details := make([]string, len(ev))
	for i, e := range ev {
		ids[i], seqs[i], ats[i], kinds[i], details[i] = e.CallID, int64(e.Seq), utcMicro(e.At), e.Kind, e.Detail
	}
	const insert = `INSERT INTO call_events (call_id, seq, at, kind, detail)
		SELECT * FROM unnest($1::text[], $2::int8[], $3::timestamptz[], $4::text[], $5::text[])
		ON CONFLICT (call_id, seq) DO NOTHING`
	if !publish {
		_, err = s.pool.Exec(ctx, insert, ids, seqs, ats, kinds, details)
	} else {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, insert+` RETURNING call_id, seq`, ids, seqs, ats, kinds, details)
			if err != nil {
				return err
			}
			stored := map[eventKey]bool{}
			for rows.Next() {
				var k eventKey
				if err := rows.Scan(&k.callID, &k.seq); err != nil {
					rows.Close()
					return err
				}
				stored[k] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			return pgDialect().insertOutbox(ctx, pgConn{tx}, eventMessages(ev, stored)...)
		})
	}
	if err != nil {
		return fmt.Errorf("store: postgres: append %d events: %w", len(ev), pgClassify(err))
	}
	return nil
}

const pgCallColumns = `id, sip_call_id, from_uri, to_uri, trunk, source, arrived_at, answered_at,
	ended_at, flow, ivr_path, digits, vars, language, outcome, queue, hangup_cause, hangup_side, updated_at,
	queued_at, offered_at, connected_at, agent, disposition, note, node`

// ListCalls returns calls newest first by (arrived_at, id).
func (s *Postgres) ListCalls(ctx context.Context, p Page) ([]Call, string, error) {
	pos, after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(p)
	var rows pgx.Rows
	if after {
		rows, err = s.pool.Query(ctx, `SELECT `+pgCallColumns+` FROM calls
			WHERE (arrived_at, id) < ($1, $2) ORDER BY arrived_at DESC, id DESC LIMIT $3`,
			time.UnixMicro(pos.ArrivedMicros).UTC(), pos.ID, limit+1)
	} else {
		rows, err = s.pool.Query(ctx, `SELECT `+pgCallColumns+` FROM calls
			ORDER BY arrived_at DESC, id DESC LIMIT $1`, limit+1)
	}
	if err != nil {
		return nil, "", fmt.Errorf("store: postgres: list calls: %w", err)
	}
	defer rows.Close()
	var calls []Call
	for rows.Next() {
		c, err := scanPgCall(rows)
		if err != nil {
			return nil, "", err
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: postgres: list calls: %w", err)
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
func (s *Postgres) GetCall(ctx context.Context, id string) (Call, []Event, error) {
	c, err := scanPgCall(s.pool.QueryRow(ctx, `SELECT `+pgCallColumns+` FROM calls WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Call{}, nil, fmt.Errorf("store: call %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Call{}, nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT call_id, seq, at, kind, detail FROM call_events
		WHERE call_id = $1 ORDER BY seq`, id)
	if err != nil {
		return Call{}, nil, fmt.Errorf("store: postgres: get call %s events: %w", id, err)
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.CallID, &e.Seq, &e.At, &e.Kind, &e.Detail); err != nil {
			return Call{}, nil, fmt.Errorf("store: postgres: get call %s events: %w", id, err)
		}
		e.At = e.At.UTC()
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return Call{}, nil, fmt.Errorf("store: postgres: get call %s events: %w", id, err)
	}
	return c, events, nil
}

// Ping checks that the server answers.
func (s *Postgres) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool; it is idempotent.
func (s *Postgres) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}

func scanPgCall(r pgx.Row) (Call, error) {
	var (
		c                  Call
		pathJSON, varsJSON []byte
	)
	err := r.Scan(&c.ID, &c.SIPCallID, &c.From, &c.To, &c.Trunk, &c.Source, &c.ArrivedAt, &c.AnsweredAt,
		&c.EndedAt, &c.Flow, &pathJSON, &c.Digits, &varsJSON, &c.Language, &c.Outcome, &c.Queue,
		&c.HangupCause, &c.HangupSide, &c.UpdatedAt, &c.QueuedAt, &c.OfferedAt, &c.ConnectedAt,
		&c.Agent, &c.Disposition, &c.Note, &c.Node)
	if errors.Is(err, pgx.ErrNoRows) {
		return Call{}, err
	}
	if err != nil {
		return Call{}, fmt.Errorf("store: postgres: scan call: %w", err)
	}
	c.ArrivedAt = c.ArrivedAt.UTC()
	c.UpdatedAt = c.UpdatedAt.UTC()
	for _, p := range []**time.Time{&c.AnsweredAt, &c.EndedAt, &c.QueuedAt, &c.OfferedAt, &c.ConnectedAt} {
		if *p != nil {
			t := (*p).UTC()
			*p = &t
		}
	}
	if c.IVRPath, err = decodePath(pathJSON); err != nil {
		return Call{}, err
	}
	if c.Vars, err = decodeVars(varsJSON); err != nil {
		return Call{}, err
	}
	return c, nil
}

// pgClassify wraps err with ErrRejected when the server refused the data
// itself: SQLSTATE class 22 (data exception), 23 (integrity violation) or
// 54 (program limit exceeded, e.g. a value too large).
func pgClassify(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23") ||
		strings.HasPrefix(pe.Code, "54")) {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return err
}
