package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/store/pgtest"
	"github.com/hotline/hotline/internal/store/storetest"
)

// fastRetry keeps retry waits short so tests finish quickly.
func fastRetry(log *logBuffer) store.WriterConfig {
	cfg := store.WriterConfig{RetryMin: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond}
	if log != nil {
		cfg.Logger = newLogger(log)
	}
	return cfg
}

func TestWriterCloseFlushesToSQLite(t *testing.T) {
	s, err := store.Open(t.Context(), store.Config{DataDir: t.TempDir()}, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.Migrate(t.Context()))

	w := store.NewWriter(s, fastRetry(nil))
	for i := range 50 {
		c := storetest.SampleCall(fmt.Sprintf("call-%02d", i), fixedTime.Add(time.Duration(i)*time.Second))
		w.SaveCall(c)
		for seq := 1; seq <= 20; seq++ {
			w.AppendEvent(store.Event{CallID: c.ID, Seq: seq, At: c.ArrivedAt, Kind: "dtmf", Detail: "1"})
		}
	}
	require.NoError(t, w.Close(t.Context()))
	require.Zero(t, w.Pending())
	require.NoError(t, w.Close(t.Context()), "Close is idempotent")

	calls, next, err := s.ListCalls(t.Context(), store.Page{Limit: 100})
	require.NoError(t, err)
	require.Len(t, calls, 50)
	require.Empty(t, next)
	_, events, err := s.GetCall(t.Context(), "call-07")
	require.NoError(t, err)
	require.Len(t, events, 20)
}

// Agent state changes go through the Writer like call records and land in
// the agent event list.
func TestWriterWritesAgentEvents(t *testing.T) {
	s, err := store.Open(t.Context(), store.Config{DataDir: t.TempDir()}, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.Migrate(t.Context()))
	w := store.NewWriter(s, fastRetry(nil))
	for i, st := range []string{"not_ready", "ready", "offered", "on_call", "wrap_up", "ready"} {
		w.AppendAgentEvent(store.AgentEvent{ID: fmt.Sprintf("e%d", i), AgentID: "anna",
			At: fixedTime.Add(time.Duration(i) * time.Second), State: st, CallID: "call-1"})
	}
	require.NoError(t, w.Close(t.Context()))
	got, err := s.ListAgentEvents(t.Context(), "anna", fixedTime, fixedTime.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, got, 6)
	require.Equal(t, "wrap_up", got[4].State)
}

func TestWriterNeverBlocksOnAHungDatabase(t *testing.T) {
	f := newFakeStore()
	f.blockWrites() // every write hangs until its context ends
	journal := t.TempDir()
	cfg := fastRetry(nil)
	cfg.JournalDir = journal
	cfg.MaxPending = 100
	w := store.NewWriter(f, cfg)

	// If SaveCall or AppendEvent waited on the store, this would never finish.
	for i := range 30 {
		id := fmt.Sprintf("c%d", i)
		w.SaveCall(storetest.SampleCall(id, fixedTime))
		for seq := 1; seq <= 10; seq++ {
			w.AppendEvent(store.Event{CallID: id, Seq: seq, At: fixedTime, Kind: "k"})
		}
	}
	require.Equal(t, 30+300, w.Pending())

	// Close gives up when its context ends; nothing is lost: it is journaled.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := w.Close(ctx)
	require.ErrorContains(t, err, "330 records in journal")

	// The next Writer on the same journal dir writes it all once the DB is back.
	f.unblockWrites()
	w2 := store.NewWriter(f, cfg)
	require.NoError(t, w2.Close(t.Context()))
	require.Zero(t, w2.Pending())
	require.Len(t, f.calls, 30)
	require.Equal(t, 300, f.eventCount())
	left, err := filepath.Glob(filepath.Join(journal, "journal-*"))
	require.NoError(t, err)
	require.Empty(t, left, "replayed journal files are removed")
}

func TestWriterCoalescesSnapshots(t *testing.T) {
	f := newFakeStore()
	f.setDown(true)
	w := store.NewWriter(f, fastRetry(nil))
	c := storetest.SampleCall("one", fixedTime)
	for i := range 1000 {
		c.Digits = fmt.Sprint(i)
		w.SaveCall(c)
	}
	require.Equal(t, 1, w.Pending(), "snapshots of one call coalesce")
	f.setDown(false)
	require.NoError(t, w.Close(t.Context()))
	require.Equal(t, "999", f.calls["one"].Digits, "the latest snapshot wins")
	require.LessOrEqual(t, f.saves, 2)
}

func TestWriterSpillsBeyondMaxPending(t *testing.T) {
	f := newFakeStore()
	f.setDown(true)
	journal := t.TempDir()
	cfg := fastRetry(nil)
	cfg.MaxPending, cfg.BatchSize, cfg.JournalDir = 10, 7, journal
	w := store.NewWriter(f, cfg)
	for seq := 1; seq <= 100; seq++ {
		w.AppendEvent(store.Event{CallID: "c", Seq: seq, At: fixedTime, Kind: "k"})
	}
	require.Equal(t, 100, w.Pending())
	files, err := filepath.Glob(filepath.Join(journal, "journal-*.jsonl"))
	require.NoError(t, err)
	require.Len(t, files, 1, "events beyond MaxPending spill to a journal file")

	f.setDown(false)
	require.NoError(t, w.Close(t.Context()))
	require.Equal(t, 100, f.eventCount(), "every event lands, in memory or spilled")
	files, err = filepath.Glob(filepath.Join(journal, "journal-*.jsonl"))
	require.NoError(t, err)
	require.Empty(t, files)
}

func TestWriterWithoutJournalKeepsOverflowAndSaysSo(t *testing.T) {
	f := newFakeStore()
	f.setDown(true)
	var logs logBuffer
	cfg := fastRetry(&logs)
	cfg.MaxPending = 10
	w := store.NewWriter(f, cfg)
	for seq := 1; seq <= 25; seq++ {
		w.AppendEvent(store.Event{CallID: "c", Seq: seq, At: fixedTime})
	}
	require.Equal(t, 25, w.Pending())
	require.Contains(t, logs.String(), "events piling up in memory")
	f.setDown(false)
	require.NoError(t, w.Close(t.Context()))
	require.Equal(t, 25, f.eventCount())
}

func TestWriterCloseWithoutJournalLogsWhatIsLost(t *testing.T) {
	f := newFakeStore()
	f.setDown(true)
	var logs logBuffer
	w := store.NewWriter(f, fastRetry(&logs))
	w.SaveCall(storetest.SampleCall("doomed", fixedTime))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	require.ErrorContains(t, w.Close(ctx), "1 lost (logged)")
	require.Contains(t, logs.String(), "call.id=doomed", "an unwritten record is logged in full, never dropped silently")
	require.Contains(t, logs.String(), "call.ended_at=2026-11-24T09:01:35Z", "times are logged as times")

	w.AppendEvent(store.Event{CallID: "late", Seq: 1})
	require.Contains(t, logs.String(), "closed; event not written")
}

func TestWriterSkipsRejectedRecordAndKeepsGoing(t *testing.T) {
	f := newFakeStore()
	f.reject = "bad"
	var logs logBuffer
	w := store.NewWriter(f, fastRetry(&logs))
	w.SaveCall(storetest.SampleCall("bad", fixedTime))
	w.SaveCall(storetest.SampleCall("good", fixedTime))
	require.NoError(t, w.Close(t.Context()))
	require.Contains(t, f.calls, "good")
	require.Contains(t, logs.String(), "refused call snapshot")
	require.Contains(t, logs.String(), "call_id=bad")
}

func TestWriterReplaysJournalLeftByCrash(t *testing.T) {
	dir := t.TempDir()
	// A previous process spilled two events and died mid-write of a third.
	body := `{"event":{"CallID":"c","Seq":1,"At":"2026-11-24T09:00:00Z","Kind":"invite","Detail":""}}
{"call":{"ID":"c","ArrivedAt":"2026-11-24T09:00:00Z","UpdatedAt":"2026-11-24T09:00:00Z"}}
{"event":{"CallID":"c","Seq":2,"At":"2026-11-24T09:00:01Z","Kind":"bye","Detail":""}}
{"event":{"CallID":"c","Se`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "journal-1-1.jsonl"), []byte(body), 0o600))
	f := newFakeStore()
	var logs logBuffer
	cfg := fastRetry(&logs)
	cfg.JournalDir = dir
	w := store.NewWriter(f, cfg)
	require.NoError(t, w.Close(t.Context()))
	_, events, err := f.GetCall(t.Context(), "c")
	require.NoError(t, err)
	require.Len(t, events, 2)
	require.Contains(t, logs.String(), "unreadable journal record")
}

// TestWriterSurvivesPostgresRestart is issue 3's required test: live calls
// keep writing snapshots and events while the real PostgreSQL server is
// stopped and started again, and afterwards every row and event is there.
func TestWriterSurvivesPostgresRestart(t *testing.T) {
	srv := pgtest.Start(t) // own server: the shared one must not go down under other tests
	s, err := store.OpenPostgres(t.Context(), srv.CreateDB(t), nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.Migrate(t.Context()))

	var logs logBuffer
	cfg := store.WriterConfig{RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		Logger: newLogger(&logs), JournalDir: t.TempDir(), MaxPending: 200}
	w := store.NewWriter(s, cfg)

	type want struct {
		call   store.Call
		events int
	}
	var (
		mu       sync.Mutex
		expected = map[string]want{}
		done     atomic.Int64 // finished calls
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	// Each line runs calls back to back: arrival snapshot, IVR events paced
	// like digits (every 2 ms), snapshot updates, final snapshot.
	for line := range 6 {
		wg.Go(func() {
			tick := time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("line%d-call%04d", line, n)
				arrived := time.Now()
				c := store.Call{ID: id, From: "sip:caller@127.0.0.1", To: "sip:8800@127.0.0.1", Trunk: "demo",
					ArrivedAt: arrived, UpdatedAt: arrived, Flow: "demo"}
				w.SaveCall(c)
				seq := 0
				for step := range 8 {
					<-tick.C
					seq++
					w.AppendEvent(store.Event{CallID: id, Seq: seq, At: time.Now(), Kind: "dtmf", Detail: fmt.Sprint(step)})
					c.IVRPath = append(c.IVRPath, fmt.Sprintf("node%d", step))
					c.Digits += fmt.Sprint(step)
					c.UpdatedAt = time.Now()
					w.SaveCall(c)
				}
				ended := time.Now()
				c.EndedAt, c.UpdatedAt, c.Outcome, c.HangupSide = &ended, ended, "ivr-hangup", "caller"
				c.Vars = map[string]string{"line": fmt.Sprint(line)}
				seq++
				w.AppendEvent(store.Event{CallID: id, Seq: seq, At: ended, Kind: "bye", Detail: "caller"})
				w.SaveCall(c)
				mu.Lock()
				expected[id] = want{call: c, events: seq}
				mu.Unlock()
				done.Add(1)
			}
		})
	}
	waitCalls := func(n int64) {
		t.Helper()
		for i := 0; done.Load() < n; i++ {
			require.Less(t, i, 3000, "calls stopped making progress")
			time.Sleep(10 * time.Millisecond)
		}
	}

	waitCalls(12)
	srv.Halt(t) // calls keep coming in while the database is down
	downAt := done.Load()
	waitCalls(downAt + 12)
	require.Positive(t, w.Pending(), "records queue up while the database is down")
	srv.Resume(t)
	waitCalls(done.Load() + 12)
	close(stop)
	wg.Wait()

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, w.Close(ctx))
	require.Zero(t, w.Pending())
	require.Contains(t, logs.String(), "write failed; retrying", "the outage was noticed")
	require.Contains(t, logs.String(), "writes recovered")

	calls, next, err := s.ListCalls(t.Context(), store.Page{Limit: store.MaxPageLimit})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, calls, len(expected), "one row per call")
	for id, exp := range expected {
		got, events, err := s.GetCall(t.Context(), id)
		require.NoError(t, err, id)
		require.Equal(t, storetest.Normalized(exp.call), got, "final snapshot of %s", id)
		require.Len(t, events, exp.events, "events of %s", id)
		for i, e := range events {
			require.Equal(t, i+1, e.Seq)
		}
	}
}

func TestWriterJournalFileVanishes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "journal-1-1.jsonl")
	line := `{"event":{"CallID":"c","Seq":1,"At":"2026-11-24T09:00:00Z","Kind":"invite","Detail":""}}` + "\n"
	require.NoError(t, os.WriteFile(path, []byte(line+line), 0o600))
	f := newFakeStore()
	f.setDown(true)
	var logs logBuffer
	cfg := fastRetry(&logs)
	cfg.JournalDir = dir
	w := store.NewWriter(f, cfg)
	require.Equal(t, 2, w.Pending())
	require.NoError(t, os.Remove(path))
	// Stay down until the writer notices, so it cannot finish from a read
	// made before the file went away.
	for i := 0; !strings.Contains(logs.String(), "journal file vanished"); i++ {
		require.Less(t, i, 1000, "writer never noticed the missing journal file")
		time.Sleep(5 * time.Millisecond)
	}
	f.setDown(false)
	require.NoError(t, w.Close(t.Context()), "a vanished journal file must not wedge the writer")
	require.Zero(t, w.Pending())
	require.Contains(t, logs.String(), "journal file vanished")
}

func TestWriterCloseStopsItsGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 20 {
		w := store.NewWriter(newFakeStore(), fastRetry(nil))
		w.SaveCall(storetest.SampleCall("x", fixedTime))
		require.NoError(t, w.Close(t.Context()))
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before+1, "every Writer goroutine has exited after Close")
}
