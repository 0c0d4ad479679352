package store_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/store/storetest"
)

// A process died with a call live and two of its events spilled to the
// journal. The next Writer closes the orphans only after replaying that
// journal: the crash event comes after the journaled ones, and the end time
// is the last journaled event's.
func TestWriterClosesOrphansAfterReplay(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(t.Context(), store.Config{DataDir: dir}, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.Migrate(t.Context()))

	arrived := fixedTime
	live := storetest.SampleCall("c", arrived)
	live.EndedAt, live.Outcome, live.HangupSide, live.HangupCause = nil, "", "", ""
	live.Node, live.UpdatedAt = "a", arrived.Add(time.Second)
	require.NoError(t, s.SaveCall(t.Context(), live))
	journal := filepath.Join(dir, "journal")
	require.NoError(t, os.MkdirAll(journal, 0o750))
	body := `{"event":{"CallID":"c","Seq":1,"At":"2026-11-24T09:00:00Z","Kind":"arrived","Detail":""}}
{"event":{"CallID":"c","Seq":2,"At":"2026-11-24T09:00:30Z","Kind":"queued","Detail":"support"}}
`
	require.NoError(t, os.WriteFile(filepath.Join(journal, "journal-1-1.jsonl"), []byte(body), 0o600))

	start := arrived.Add(time.Hour)
	var logs logBuffer
	cfg := fastRetry(&logs)
	cfg.JournalDir, cfg.Node = journal, "a"
	w := store.NewWriter(s, cfg)
	w.CloseOrphans("a", start)
	fresh := storetest.SampleCall("new", start.Add(time.Second))
	fresh.EndedAt = nil
	w.SaveCall(fresh) // the new process's own call, without a node
	require.NoError(t, w.Close(t.Context()))

	c, events, err := s.GetCall(t.Context(), "c")
	require.NoError(t, err)
	require.Equal(t, store.OutcomeCrashed, c.Outcome)
	require.NotNil(t, c.EndedAt)
	require.Equal(t, arrived.Add(30*time.Second), *c.EndedAt, "the end is the last journaled event")
	kinds := []string{}
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	require.Equal(t, []string{"arrived", "queued", store.EventCrashed}, kinds, "the journal first, then the crash")
	require.Contains(t, logs.String(), "closed calls left open by a crash")

	c, _, err = s.GetCall(t.Context(), "new")
	require.NoError(t, err)
	require.Equal(t, "a", c.Node, "the Writer gives a call its node")
	require.Nil(t, c.EndedAt, "a call of the new process stays open")
}
