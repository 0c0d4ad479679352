// Package store persists call records: one row per call (interaction) and an
// append-only list of events per call; also people and access, agent states,
// call recordings (recordings.go) and the append-only audit log.
//
// Two implementations satisfy the same Store contract: an embedded SQLite
// database (pure Go, the default) and PostgreSQL (pgx/v5 pool). Both keep
// timestamps in UTC with microsecond precision, so a Call read back equals the
// Call saved once its times are truncated to the microsecond.
//
// Call code never writes to a Store directly: it goes through a Writer, which
// never blocks and retries while the database is slow or down.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrNotFound is returned when no record has the given id (GetCall,
// GetRecording, SetLegalHold, ...).
var ErrNotFound = errors.New("store: not found")

// ErrRejected marks a write the database refuses because of the record itself
// (missing id, text the database cannot store, ...). Retrying it cannot
// succeed; every other write error may be retried.
var ErrRejected = errors.New("store: record rejected")

// Call is one interaction: everything the hotline knows about one inbound call.
type Call struct {
	ID          string     // our id (uuid v7 string)
	SIPCallID   string     // the SIP Call-ID header
	From, To    string     // caller and dialed URIs or numbers
	Trunk       string     // trunk the call came in on
	Source      string     // "ip:port" the INVITE came from
	ArrivedAt   time.Time  // INVITE accepted
	AnsweredAt  *time.Time // 200 OK sent; nil while unanswered
	EndedAt     *time.Time // call over; nil while live
	Flow        string     // IVR flow name
	IVRPath     []string   // node ids visited, in order
	Digits      string     // all digits the IVR took
	Vars        map[string]string
	Language    string
	Outcome     string // "ivr-hangup", "queue", "rejected", ... (free text, set by the switchboard)
	Queue       string
	HangupCause string
	HangupSide  string     // "caller" | "hotline"
	QueuedAt    *time.Time // entered the ACD queue
	OfferedAt   *time.Time // first offered to an agent
	ConnectedAt *time.Time // an agent answered (the end of the queue wait)
	Agent       string     // the agent who answered (the last one, after transfers)
	Disposition string     // the agent's wrap-up disposition
	Note        string     // the agent's wrap-up note
	// Node is the hotline node that handled the call (Config.NodeName); a
	// Writer sets it to its own when empty. A node restarting after a crash
	// closes its own open calls, and only those (CloseOrphans).
	Node      string
	UpdatedAt time.Time
}

// Event is one entry of a call's append-only history. Seq numbers the events
// of one call; (CallID, Seq) identifies an event, so writing it twice is a no-op.
type Event struct {
	CallID string
	Seq    int
	At     time.Time
	Kind   string
	Detail string
	// Publish, when set, is an outbox topic (TopicCallRinging, ...):
	// AppendEvents writes, in the same transaction as the event, the
	// OutboxMessage {ID "call:<CallID>:<Seq>", Topic Publish, Key CallID,
	// At, Payload}.
	Publish string          `json:",omitempty"`
	Payload json.RawMessage `json:",omitempty"`
}

// Page asks ListCalls for up to Limit calls (DefaultPageLimit when <= 0, at
// most MaxPageLimit), newest first by (ArrivedAt, ID), continuing after Cursor
// (the opaque next value of the previous page; "" for the first page). A
// cursor ListCalls did not produce fails with ErrBadCursor.
type Page struct {
	Limit  int
	Cursor string
}

// Store is the persistence contract both backends implement.
type Store interface {
	// Migrate brings the schema up to date; running it again is a no-op.
	Migrate(ctx context.Context) error
	// SaveCall inserts or replaces the call with c.ID (last write wins).
	SaveCall(ctx context.Context, c Call) error
	// AppendEvents stores events; an event whose (CallID, Seq) exists is ignored.
	AppendEvents(ctx context.Context, ev []Event) error
	// ListCalls returns one page of calls, newest first, and the cursor of the
	// next page ("" when this is the last page).
	ListCalls(ctx context.Context, p Page) (calls []Call, next string, err error)
	// GetCall returns one call and its events ordered by Seq, or ErrNotFound.
	GetCall(ctx context.Context, id string) (Call, []Event, error)
	// Ping reports whether the database is reachable.
	Ping(ctx context.Context) error
	// Close releases the database; it is idempotent.
	Close() error

	// People and access (issue 4): users.go, sessions.go, tokens.go, agent_events.go.
	UserStore
	SessionStore
	TokenStore
	AgentEventStore

	// Call recordings and the audit log: recordings.go, recordings_sql.go.
	RecordingStore
	AuditStore

	// Tickets and the webhook outbox: tickets.go, tickets_sql.go, outbox.go.
	TicketStore
	OutboxStore

	// What a crashed process left open: orphans.go.
	OrphanStore

	// The calls of KPI reports: stats_sql.go.
	StatsStore
}

// Config selects and locates the database.
type Config struct {
	// DataDir holds the embedded SQLite database (hotline.db) and the Writer's
	// spill journal. It is created when missing.
	DataDir string `yaml:"data_dir"`
	// Database is "" for the embedded SQLite store under DataDir,
	// "sqlite:PATH" for an SQLite file elsewhere, or a "postgres://…" /
	// "postgresql://…" URL for PostgreSQL.
	Database string `yaml:"database"`
	// Node names this hotline among those sharing the database: each call
	// row records the node that handled it, and a node starting after a
	// crash closes only its own calls. Default: the host name (NodeName).
	// Two nodes running at once must not share a name.
	Node string `yaml:"node"`
}

// NodeName is c.Node, or when unset the host name, or "hotline" when the
// host has none.
func (c Config) NodeName() string {
	if n := strings.TrimSpace(c.Node); n != "" {
		return n
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "hotline"
}

// JournalDir is where a Writer over this store should spill records:
// <DataDir>/journal.
func (c Config) JournalDir() string {
	if c.DataDir == "" {
		return ""
	}
	return filepath.Join(c.DataDir, "journal")
}

// LogValue shows a call in logs with its times, not pointer addresses, so a
// record logged because it could not be written can be recovered from the log.
func (c Call) LogValue() slog.Value {
	opt := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return slog.GroupValue(
		slog.String("id", c.ID), slog.String("sip_call_id", c.SIPCallID),
		slog.String("from", c.From), slog.String("to", c.To), slog.String("trunk", c.Trunk),
		slog.String("source", c.Source), slog.Time("arrived_at", c.ArrivedAt),
		slog.String("answered_at", opt(c.AnsweredAt)), slog.String("ended_at", opt(c.EndedAt)),
		slog.String("flow", c.Flow), slog.Any("ivr_path", c.IVRPath), slog.String("digits", c.Digits),
		slog.Any("vars", c.Vars), slog.String("language", c.Language), slog.String("outcome", c.Outcome),
		slog.String("queue", c.Queue), slog.String("hangup_cause", c.HangupCause),
		slog.String("hangup_side", c.HangupSide), slog.String("node", c.Node), slog.Time("updated_at", c.UpdatedAt),
	)
}

// Limits of a Page.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 1000
)

// Open opens the store cfg selects. It does not migrate: call Migrate.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db := strings.TrimSpace(cfg.Database)
	switch {
	case db == "":
		if cfg.DataDir == "" {
			return nil, errors.New("store: open: data_dir is empty and no database URL is set")
		}
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("store: open: %w", err)
		}
		return OpenSQLite(ctx, filepath.Join(cfg.DataDir, "hotline.db"), log)
	case strings.HasPrefix(db, "sqlite:"):
		path := strings.TrimPrefix(db, "sqlite:")
		if path == "" {
			return nil, errors.New("store: open: sqlite: empty path")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("store: open: %w", err)
		}
		return OpenSQLite(ctx, path, log)
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return OpenPostgres(ctx, db, log)
	default:
		return nil, fmt.Errorf("store: open: unsupported database %q (want \"\", sqlite:PATH or postgres://…)", redact(db))
	}
}

// redact hides everything after the scheme so passwords never reach logs.
func redact(url string) string {
	if i := strings.Index(url, "://"); i >= 0 {
		return url[:i] + "://…"
	}
	if len(url) > 16 {
		return url[:16] + "…"
	}
	return url
}

// normalize gives c the representation both backends store: UTC times at
// microsecond precision, nil for empty path and vars.
func normalize(c Call) Call {
	c.ArrivedAt = utcMicro(c.ArrivedAt)
	c.UpdatedAt = utcMicro(c.UpdatedAt)
	for _, p := range []**time.Time{&c.AnsweredAt, &c.EndedAt, &c.QueuedAt, &c.OfferedAt, &c.ConnectedAt} {
		if *p != nil {
			t := utcMicro(**p)
			*p = &t
		}
	}
	if len(c.IVRPath) == 0 {
		c.IVRPath = nil
	}
	if len(c.Vars) == 0 {
		c.Vars = nil
	}
	return c
}

func utcMicro(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

func pageLimit(p Page) int {
	switch {
	case p.Limit <= 0:
		return DefaultPageLimit
	case p.Limit > MaxPageLimit:
		return MaxPageLimit
	default:
		return p.Limit
	}
}

func validateCall(c Call) error {
	if c.ID == "" {
		return fmt.Errorf("store: save call: empty id: %w", ErrRejected)
	}
	return nil
}

func validateEvents(ev []Event) error {
	for i, e := range ev {
		if e.CallID == "" {
			return fmt.Errorf("store: append events: event %d: empty call id: %w", i, ErrRejected)
		}
	}
	return nil
}
