package store_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

// publishing returns an event of call c1 that publishes a message.
func publishing(seq int, topic, payload string) store.Event {
	return store.Event{CallID: "c1", Seq: seq, At: fixedTime.Add(time.Duration(seq) * time.Second), Kind: "k",
		Publish: topic, Payload: json.RawMessage(payload)}
}

// An event's Publish and Payload survive the spill journal: events spilled
// beyond MaxPending reach the store with them.
func TestWriterJournalKeepsPublish(t *testing.T) {
	f := newFakeStore()
	f.setDown(true)
	dir := t.TempDir()
	cfg := fastRetry(nil)
	cfg.MaxPending, cfg.JournalDir = 1, dir
	w := store.NewWriter(f, cfg)
	w.AppendEvent(publishing(1, store.TopicCallRinging, `{"from":"+74951234567","vars":{"a":[1,2]}}`))
	w.AppendEvent(publishing(2, store.TopicCallAnswered, `{"agent":"анна"}`))
	w.AppendEvent(store.Event{CallID: "c1", Seq: 3, At: fixedTime, Kind: "dtmf", Detail: "1"})

	files, err := filepath.Glob(filepath.Join(dir, "journal-*.jsonl"))
	require.NoError(t, err)
	require.Len(t, files, 1, "events beyond MaxPending spill")
	body, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.Contains(t, string(body), `"Publish":"call.answered"`)
	require.Contains(t, string(body), `"Payload":{"agent":"анна"}`, "the payload is journaled as JSON, not base64")
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	require.Len(t, lines, 2)
	require.Contains(t, lines[1], `"Seq":3`)
	require.NotContains(t, lines[1], "Publish", "an event that publishes nothing journals as before")
	require.NotContains(t, lines[1], "Payload")

	f.setDown(false)
	require.NoError(t, w.Close(t.Context()))
	_, events, err := f.GetCall(t.Context(), "c1")
	require.ErrorIs(t, err, store.ErrNotFound, "no call row in the fake")
	require.Empty(t, events)
	f.mu.Lock()
	defer f.mu.Unlock()
	got := f.events["c1"]
	require.Len(t, got, 3)
	require.Equal(t, store.TopicCallRinging, got[1].Publish)
	require.JSONEq(t, `{"from":"+74951234567","vars":{"a":[1,2]}}`, string(got[1].Payload))
	require.Equal(t, store.TopicCallAnswered, got[2].Publish)
	require.JSONEq(t, `{"agent":"анна"}`, string(got[2].Payload))
	require.Empty(t, got[3].Publish)
	require.Empty(t, got[3].Payload)
}

// Events journaled by a Writer that gave up are replayed by the next one
// into a real store, and their outbox messages are written then, once.
func TestWriterJournalReplayPublishesToOutbox(t *testing.T) {
	dir := t.TempDir()
	f := newFakeStore()
	f.blockWrites()
	cfg := fastRetry(nil)
	cfg.JournalDir = dir
	w := store.NewWriter(f, cfg)
	w.AppendEvent(publishing(1, store.TopicCallRinging, `{"n":1}`))
	w.AppendEvent(publishing(2, store.TopicCallEnded, `{"n":2}`))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	require.ErrorContains(t, w.Close(ctx), "2 records in journal")
	f.unblockWrites()

	s, err := store.Open(t.Context(), store.Config{DataDir: filepath.Join(t.TempDir(), "data")}, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.Migrate(t.Context()))
	w2 := store.NewWriter(s, cfg)
	w2.AppendEvent(publishing(2, store.TopicCallEnded, `{"n":2}`)) // written again by the live call
	require.NoError(t, w2.Close(t.Context()))

	msgs, err := s.PendingOutbox(t.Context(), "hook", 0, 10)
	require.NoError(t, err)
	require.Len(t, msgs, 2, "each message once: the journaled copy of event 2 publishes nothing again")
	// The live write may land before the replay: seq follows the writes.
	byID := map[string]store.OutboxMessage{}
	for _, m := range msgs {
		byID[m.ID] = m
	}
	require.Equal(t, store.TopicCallRinging, byID["call:c1:1"].Topic)
	require.JSONEq(t, `{"n":1}`, string(byID["call:c1:1"].Payload))
	require.Equal(t, store.TopicCallEnded, byID["call:c1:2"].Topic)
	require.JSONEq(t, `{"n":2}`, string(byID["call:c1:2"].Payload))
}
