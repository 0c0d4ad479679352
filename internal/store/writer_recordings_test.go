package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/store/pgtest"
	"github.com/hotline/hotline/internal/store/storetest"
)

// auditEvent is one play of recording object by sam.
func auditEvent(id, object string, at time.Time) store.AuditEvent {
	return store.AuditEvent{ID: id, At: at, Actor: "sam", Role: "supervisor", Action: "recording.play",
		Object: object, CallID: "call-" + object, Detail: "bytes=0-", Source: "127.0.0.1:50000"}
}

// waitEntered waits until the fake store has been asked to write.
func waitEntered(t *testing.T, f *fakeStore) {
	t.Helper()
	select {
	case <-f.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the writer never tried to write")
	}
}

func TestWriterCoalescesRecordings(t *testing.T) {
	f := newFakeStore()
	f.setDown(true)
	w := store.NewWriter(f, fastRetry(nil))
	r := storetest.SampleRecording("one", "call-1", fixedTime)
	for i := range 1000 {
		r.DurationMS = int64(i)
		w.SaveRecording(r)
	}
	require.LessOrEqual(t, w.Pending(), 2, "snapshots of one recording coalesce (one may be in flight)")
	// The caller goes on changing its own copy (closing the last segment);
	// the queued snapshot keeps what it was given.
	r.Segments[1].EndMS = 123456
	r.Markers[0].By = "changed"
	f.setDown(false)
	require.NoError(t, w.Close(t.Context()))
	got, ok := f.recording("one")
	require.True(t, ok)
	require.Equal(t, int64(999), got.DurationMS, "the latest snapshot wins")
	require.Equal(t, int64(94000), got.Segments[1].EndMS, "the Writer holds its own copy of the segments")
	require.Equal(t, "anna", got.Markers[0].By)
	require.LessOrEqual(t, f.recSave, 2)
}

// Recordings and audit events queue while the store is down and are
// written, each once, when it is back.
func TestWriterRecordingsAndAuditSurviveOutage(t *testing.T) {
	f := newFakeStore()
	f.setDown(true)
	var logs logBuffer
	w := store.NewWriter(f, fastRetry(&logs))
	for i := range 20 {
		r := storetest.SampleRecording(fmt.Sprintf("r%02d", i), fmt.Sprintf("c%02d", i), fixedTime)
		for _, st := range []string{store.RecordingActive, store.RecordingActive, store.RecordingComplete} {
			r.State = st
			w.SaveRecording(r)
		}
	}
	for i := range 50 {
		w.AppendAudit(auditEvent(fmt.Sprintf("a%02d", i), fmt.Sprintf("r%02d", i%20), fixedTime.Add(time.Duration(i)*time.Second)))
	}
	waitEntered(t, f) // a write was tried while the store was down
	require.Equal(t, 20+50, w.Pending())
	for i := 0; !strings.Contains(logs.String(), "write failed; retrying"); i++ {
		require.Less(t, i, 1000, "the outage was never noticed")
		time.Sleep(5 * time.Millisecond)
	}
	require.Zero(t, f.recSave, "nothing is written while the store is down")
	require.Zero(t, f.auditCount())

	f.setDown(false)
	require.NoError(t, w.Close(t.Context()))
	require.Zero(t, w.Pending())
	require.Equal(t, 20, f.recSave, "each recording is written once, its latest snapshot")
	for i := range 20 {
		got, ok := f.recording(fmt.Sprintf("r%02d", i))
		require.True(t, ok)
		require.Equal(t, store.RecordingComplete, got.State)
	}
	require.Equal(t, 50, f.auditCount())
	for id, n := range f.auditN {
		require.Equal(t, 1, n, "audit event %s written once", id)
	}
	require.Equal(t, "r07", f.audit["a27"].Object)
}

// On a Close that times out, recordings and audit events go to the journal,
// and the next Writer on the same directory writes them.
func TestWriterJournalsRecordingsAndAuditOnClose(t *testing.T) {
	f := newFakeStore()
	f.blockWrites()
	dir := t.TempDir()
	cfg := fastRetry(nil)
	cfg.JournalDir, cfg.MaxPending = dir, 10
	w := store.NewWriter(f, cfg)
	for i := range 5 {
		r := storetest.SampleRecording(fmt.Sprintf("r%d", i), "c", fixedTime.Add(time.Duration(i)*time.Minute))
		w.SaveRecording(r)
		r.State, r.Reason = store.RecordingFailed, "disk full"
		w.SaveRecording(r)
	}
	for i := range 30 { // 20 of them beyond MaxPending spill at once
		w.AppendAudit(auditEvent(fmt.Sprintf("a%02d", i), "r0", fixedTime))
	}
	w.SaveCall(storetest.SampleCall("c", fixedTime))
	// The writer may already hold r0's first snapshot in a (hanging) write
	// when its second one is queued: then both count as not yet written.
	require.Contains(t, []int{5 + 30 + 1, 6 + 30 + 1}, w.Pending())

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	require.ErrorContains(t, w.Close(ctx), "36 records in journal")
	w.SaveRecording(storetest.SampleRecording("late", "c", fixedTime)) // logged, not written
	w.AppendAudit(auditEvent("late", "r0", fixedTime))

	f.unblockWrites()
	w2 := store.NewWriter(f, cfg)
	require.NoError(t, w2.Close(t.Context()))
	require.Zero(t, w2.Pending())
	require.Len(t, f.recs, 5)
	for i := range 5 {
		want := storetest.SampleRecording(fmt.Sprintf("r%d", i), "c", fixedTime.Add(time.Duration(i)*time.Minute))
		want.State, want.Reason = store.RecordingFailed, "disk full"
		got, _ := f.recording(want.ID)
		require.Equal(t, storetest.NormalizedRecording(want), storetest.NormalizedRecording(got),
			"a journaled recording comes back whole")
	}
	require.Equal(t, 30, f.auditCount())
	require.Equal(t, auditEvent("a29", "r0", fixedTime), f.audit["a29"])
	require.Contains(t, f.calls, "c")
	left, err := filepath.Glob(filepath.Join(dir, "journal-*"))
	require.NoError(t, err)
	require.Empty(t, left, "replayed journal files are removed")
}

// A snapshot journaled by an earlier Writer is older than any snapshot of
// the same call or recording the next Writer is given: replay must not put
// the old one back over the new one.
func TestWriterReplayDoesNotOverwriteNewerSnapshots(t *testing.T) {
	f := newFakeStore()
	f.blockWrites()
	dir := t.TempDir()
	cfg := fastRetry(nil)
	cfg.JournalDir = dir
	w := store.NewWriter(f, cfg)
	rec := storetest.SampleRecording("r", "c", fixedTime)
	rec.State = store.RecordingActive
	w.SaveRecording(rec)
	call := storetest.SampleCall("c", fixedTime)
	call.Outcome = "queue"
	w.SaveCall(call)
	w.SaveRecording(storetest.SampleRecording("other", "c", fixedTime)) // only in the journal
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	require.ErrorContains(t, w.Close(ctx), "3 records in journal")

	// The next process starts while the database is still down and saves
	// newer snapshots before the journal could be replayed.
	f.setDown(true)
	f.unblockWrites()
	w2 := store.NewWriter(f, cfg)
	waitEntered(t, f)
	rec.State = store.RecordingRecovered
	w2.SaveRecording(rec)
	call.Outcome = "answered"
	w2.SaveCall(call)
	f.setDown(false)
	require.NoError(t, w2.Close(t.Context()))
	got, _ := f.recording("r")
	require.Equal(t, store.RecordingRecovered, got.State, "the newer recording snapshot stays")
	require.Equal(t, "answered", f.calls["c"].Outcome, "the newer call snapshot stays")
	_, ok := f.recording("other")
	require.True(t, ok, "journaled snapshots nobody replaced are replayed")
}

func TestWriterCloseWithoutJournalLogsRecordingsAndAudit(t *testing.T) {
	f := newFakeStore()
	f.setDown(true)
	var logs logBuffer
	w := store.NewWriter(f, fastRetry(&logs))
	w.SaveRecording(storetest.SampleRecording("doomed", "c", fixedTime))
	w.AppendAudit(auditEvent("audit-doomed", "doomed", fixedTime))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	require.ErrorContains(t, w.Close(ctx), "2 lost (logged)")
	out := logs.String()
	require.Contains(t, out, "recording snapshot not written")
	require.Contains(t, out, "recording.id=doomed", "an unwritten recording is logged in full")
	require.Contains(t, out, "recording.ended_at=2026-11-24T09:01:35Z", "times are logged as times")
	require.Contains(t, out, "recording.sha256=9f86d0")
	require.Contains(t, out, "audit event not written")
	require.Contains(t, out, "audit_id=audit-doomed")
	require.Contains(t, out, "bytes=0-", "an unwritten audit event is logged in full")

	w.SaveRecording(storetest.SampleRecording("late", "c", fixedTime))
	require.Contains(t, logs.String(), "closed; recording snapshot not written")
	w.AppendAudit(auditEvent("late", "r", fixedTime))
	require.Contains(t, logs.String(), "closed; audit event not written")
}

func TestWriterSkipsRejectedRecordingAndAudit(t *testing.T) {
	f := newFakeStore()
	f.reject = "bad"
	var logs logBuffer
	w := store.NewWriter(f, fastRetry(&logs))
	w.SaveRecording(storetest.SampleRecording("bad", "c", fixedTime))
	w.SaveRecording(storetest.SampleRecording("good", "c", fixedTime))
	w.AppendAudit(auditEvent("a1", "good", fixedTime))
	w.AppendAudit(auditEvent("bad", "good", fixedTime))
	w.AppendAudit(auditEvent("a2", "good", fixedTime))
	w.SaveRecording(store.Recording{CallID: "c"}) // no id: refused at once
	w.AppendAudit(store.AuditEvent{Action: "recording.play"})
	require.NoError(t, w.Close(t.Context()))
	_, ok := f.recording("good")
	require.True(t, ok)
	require.Contains(t, f.audit, "a1", "the rest of a refused batch is written")
	require.Contains(t, f.audit, "a2")
	require.Equal(t, 2, f.auditCount())
	out := logs.String()
	require.Contains(t, out, "refused recording snapshot")
	require.Contains(t, out, "recording_id=bad")
	require.Contains(t, out, "refused audit event")
	require.Contains(t, out, "audit_id=bad")
	require.Contains(t, out, "recording snapshot without id")
	require.Contains(t, out, "audit event without id")
}

// A journal file of the old format (calls and events only) and one mixing
// every kind both replay; a torn last line is reported and skipped.
func TestWriterReplaysJournalWithEveryKind(t *testing.T) {
	dir := t.TempDir()
	old := `{"event":{"CallID":"c","Seq":1,"At":"2026-11-24T09:00:00Z","Kind":"invite","Detail":""}}
{"call":{"ID":"c","ArrivedAt":"2026-11-24T09:00:00Z","UpdatedAt":"2026-11-24T09:00:00Z"}}
`
	mixed := `{"recording":{"ID":"r","CallID":"c","State":"complete","Segments":[{"agent":"anna","start_ms":0,"end_ms":5000}],"StartedAt":"2026-11-24T09:00:00Z","EndedAt":"2026-11-24T09:00:05Z","UpdatedAt":"2026-11-24T09:00:05Z"}}
{"audit":{"ID":"a","At":"2026-11-24T09:01:00Z","Actor":"sam","Action":"recording.play","Object":"r"}}
{"event":{"CallID":"c","Seq":2,"At":"2026-11-24T09:00:01Z","Kind":"bye","Detail":""}}
{"audit":{"ID":"a","At":"2026-11-24T09:01:00Z","Actor":"sam","Action":"recording.pl`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "journal-1-1.jsonl"), []byte(old), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "journal-2-1.jsonl"), []byte(mixed), 0o600))
	f := newFakeStore()
	var logs logBuffer
	cfg := fastRetry(&logs)
	cfg.JournalDir = dir
	w := store.NewWriter(f, cfg)
	require.NoError(t, w.Close(t.Context()))
	_, events, err := f.GetCall(t.Context(), "c")
	require.NoError(t, err)
	require.Len(t, events, 2)
	r, ok := f.recording("r")
	require.True(t, ok)
	require.Equal(t, "complete", r.State)
	require.Equal(t, []store.RecordingSegment{{Agent: "anna", StartMS: 0, EndMS: 5000}}, r.Segments)
	require.Equal(t, fixedTime.Add(5*time.Second), *r.EndedAt)
	require.Equal(t, "recording.play", f.audit["a"].Action)
	require.Contains(t, logs.String(), "unreadable journal record")
}

// Through the Writer into SQLite: a legal hold set by hand between two
// snapshots survives the second.
func TestWriterWritesRecordingsAndAuditToSQLite(t *testing.T) {
	s, err := store.Open(t.Context(), store.Config{DataDir: t.TempDir()}, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.Migrate(t.Context()))

	r := storetest.SampleRecording("r1", "c1", fixedTime)
	r.State, r.LegalHold = store.RecordingActive, false
	w := store.NewWriter(s, fastRetry(nil))
	w.SaveRecording(r)
	w.AppendAudit(auditEvent("a1", "r1", fixedTime))
	require.NoError(t, w.Close(t.Context()))
	require.NoError(t, s.SetLegalHold(t.Context(), "r1", true))

	r.State = store.RecordingComplete
	w = store.NewWriter(s, fastRetry(nil))
	w.SaveRecording(r)
	w.AppendAudit(auditEvent("a1", "r1", fixedTime)) // a retry: no second row
	w.AppendAudit(auditEvent("a2", "r1", fixedTime.Add(time.Second)))
	require.NoError(t, w.Close(t.Context()))

	got, err := s.GetRecording(t.Context(), "r1")
	require.NoError(t, err)
	want := storetest.NormalizedRecording(r)
	want.LegalHold = true
	require.Equal(t, want, got)
	audit, err := s.ListAudit(t.Context(), store.AuditFilter{Object: "r1"})
	require.NoError(t, err)
	require.Len(t, audit, 2)
}

// Recordings and audit events written while the real PostgreSQL server is
// stopped land once it is back.
func TestWriterRecordingsSurvivePostgresRestart(t *testing.T) {
	srv := pgtest.Start(t) // own server: the shared one must not go down under other tests
	s, err := store.OpenPostgres(t.Context(), srv.CreateDB(t), nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.Migrate(t.Context()))

	var logs logBuffer
	cfg := store.WriterConfig{RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		Logger: newLogger(&logs), JournalDir: t.TempDir(), MaxPending: 20}
	w := store.NewWriter(s, cfg)
	w.SaveRecording(storetest.SampleRecording("before", "c0", fixedTime))
	for i := 0; w.Pending() > 0; i++ {
		require.Less(t, i, 1000, "the first recording was never written")
		time.Sleep(5 * time.Millisecond)
	}

	srv.Halt(t)
	want := map[string]store.Recording{}
	for i := range 10 {
		r := storetest.SampleRecording(fmt.Sprintf("r%02d", i), fmt.Sprintf("c%02d", i), fixedTime.Add(time.Duration(i)*time.Minute))
		r.State = store.RecordingActive
		w.SaveRecording(r)
		r.State, r.DurationMS = store.RecordingComplete, int64(1000*i)
		w.SaveRecording(r)
		want[r.ID] = r
	}
	for i := range 50 { // more than MaxPending: some spill to the journal
		w.AppendAudit(auditEvent(fmt.Sprintf("a%02d", i), "r00", fixedTime.Add(time.Duration(i)*time.Second)))
	}
	for i := 0; !strings.Contains(logs.String(), "write failed; retrying"); i++ {
		require.Less(t, i, 2000, "the outage was never noticed")
		time.Sleep(5 * time.Millisecond)
	}
	require.Equal(t, 10+50, w.Pending())
	srv.Resume(t)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, w.Close(ctx))
	require.Zero(t, w.Pending())
	require.Contains(t, logs.String(), "writes recovered")
	for id, r := range want {
		got, err := s.GetRecording(t.Context(), id)
		require.NoError(t, err, id)
		require.Equal(t, storetest.NormalizedRecording(r), got)
	}
	audit, err := s.ListAudit(t.Context(), store.AuditFilter{Object: "r00", Limit: store.MaxPageLimit})
	require.NoError(t, err)
	require.Len(t, audit, 50)
	require.Equal(t, "a49", audit[49].ID, "oldest first")
}

func TestPostgresRejectsUnstorableRecordingAndAudit(t *testing.T) {
	s := openPG(t)
	require.NoError(t, s.Migrate(t.Context()))
	r := storetest.SampleRecording("nul", "c", fixedTime)
	r.Reason = "evil\x00reason"
	require.ErrorIs(t, s.SaveRecording(t.Context(), r), store.ErrRejected,
		"PostgreSQL cannot store NUL in text; the error says retrying is pointless")
	r = storetest.SampleRecording("nul", "c", fixedTime)
	r.Segments[0].Agent = "evil\x00agent"
	require.ErrorIs(t, s.SaveRecording(t.Context(), r), store.ErrRejected, "nor in JSON")
	_, err := s.GetRecording(t.Context(), "nul")
	require.ErrorIs(t, err, store.ErrNotFound, "a rejected save leaves nothing behind")
	e := auditEvent("nul", "r", fixedTime)
	e.Detail = "evil\x00detail"
	require.ErrorIs(t, s.AppendAudit(t.Context(), []store.AuditEvent{e}), store.ErrRejected)
	require.NoError(t, s.Ping(t.Context()))
}
