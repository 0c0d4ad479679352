package store_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

var fixedTime = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// closedPort returns a loopback port nothing listens on (just released).
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// logBuffer is a concurrency-safe log sink for asserting what was logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger(b *logBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var errDown = errors.New("fake: database down")

// fakeStore is an in-memory Store whose availability the test controls:
// down makes writes fail, blocked makes them hang until unblocked or the
// context ends, reject makes it refuse one call, recording or audit id for
// good.
type fakeStore struct {
	// Store supplies the people-and-access methods (users, sessions,
	// tokens, agent events) and the recordings' reads, which the Writer
	// never calls: nil, they panic.
	store.Store

	mu      sync.Mutex
	down    bool
	block   chan struct{} // non-nil: writes wait on it
	reject  string
	calls   map[string]store.Call
	events  map[string]map[int]store.Event
	saves   int
	recs    map[string]store.Recording
	recSave int // SaveRecording calls that stored a snapshot
	audit   map[string]store.AuditEvent
	auditN  map[string]int // AppendAudit calls that carried each id, stored or not
	entered chan struct{}  // receives when a write starts (buffered, best effort)
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		calls:   map[string]store.Call{},
		events:  map[string]map[int]store.Event{},
		recs:    map[string]store.Recording{},
		audit:   map[string]store.AuditEvent{},
		auditN:  map[string]int{},
		entered: make(chan struct{}, 1),
	}
}

func (f *fakeStore) setDown(v bool) { f.mu.Lock(); f.down = v; f.mu.Unlock() }

func (f *fakeStore) blockWrites() { f.mu.Lock(); f.block = make(chan struct{}); f.mu.Unlock() }

func (f *fakeStore) unblockWrites() {
	f.mu.Lock()
	if f.block != nil {
		close(f.block)
		f.block = nil
	}
	f.mu.Unlock()
}

// gate waits while writes are blocked and says whether the write fails.
func (f *fakeStore) gate(ctx context.Context) error {
	select {
	case f.entered <- struct{}{}:
	default:
	}
	f.mu.Lock()
	block, down := f.block, f.down
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if down {
		return errDown
	}
	return nil
}

func (f *fakeStore) Migrate(context.Context) error { return nil }

func (f *fakeStore) SaveCall(ctx context.Context, c store.Call) error {
	if err := f.gate(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.ID == f.reject {
		return store.ErrRejected
	}
	f.saves++
	f.calls[c.ID] = c
	return nil
}

func (f *fakeStore) AppendEvents(ctx context.Context, ev []store.Event) error {
	if err := f.gate(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range ev {
		if f.events[e.CallID] == nil {
			f.events[e.CallID] = map[int]store.Event{}
		}
		if _, ok := f.events[e.CallID][e.Seq]; !ok {
			f.events[e.CallID][e.Seq] = e
		}
	}
	return nil
}

func (f *fakeStore) SaveRecording(ctx context.Context, r store.Recording) error {
	if err := f.gate(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.ID == f.reject {
		return store.ErrRejected
	}
	if old, ok := f.recs[r.ID]; ok {
		r.LegalHold = old.LegalHold
	}
	f.recSave++
	f.recs[r.ID] = r
	return nil
}

func (f *fakeStore) AppendAudit(ctx context.Context, ev []store.AuditEvent) error {
	if err := f.gate(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range ev {
		if e.ID == f.reject {
			return store.ErrRejected
		}
	}
	for _, e := range ev {
		f.auditN[e.ID]++
		if _, ok := f.audit[e.ID]; !ok {
			f.audit[e.ID] = e
		}
	}
	return nil
}

func (f *fakeStore) recording(id string) (store.Recording, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recs[id]
	return r, ok
}

func (f *fakeStore) auditCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.audit)
}

func (f *fakeStore) ListCalls(context.Context, store.Page) ([]store.Call, string, error) {
	return nil, "", errors.New("fake: not implemented")
}

func (f *fakeStore) GetCall(_ context.Context, id string) (store.Call, []store.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.calls[id]
	if !ok {
		return store.Call{}, nil, store.ErrNotFound
	}
	var ev []store.Event
	for seq := 1; seq <= len(f.events[id]); seq++ {
		ev = append(ev, f.events[id][seq])
	}
	return c, ev, nil
}

func (f *fakeStore) Ping(ctx context.Context) error { return f.gate(ctx) }

func (f *fakeStore) Close() error { return nil }

func (f *fakeStore) eventCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.events {
		n += len(m)
	}
	return n
}
