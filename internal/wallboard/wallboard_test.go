package wallboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/acd"
	"github.com/hotline/hotline/internal/wallboard"
)

// fakeDesk is a settable live state.
type fakeDesk struct {
	mu    sync.Mutex
	snap  acd.Snapshot
	reads atomic.Int64
}

func (f *fakeDesk) Snapshot(context.Context) (acd.Snapshot, error) {
	f.reads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.snap
	s.At = time.Now()
	return s, nil
}

func (f *fakeDesk) Caller(id string) (string, string, time.Time, bool) {
	if id == "c1" {
		return "1001", "support", time.UnixMilli(1_700_000_000_000), true
	}
	return "", "", time.Time{}, false
}

func (f *fakeDesk) set(waiting int) {
	f.mu.Lock()
	f.snap = acd.Snapshot{
		Queues: []acd.QueueSnapshot{{Name: "support", Waiting: waiting, LongestWait: 42 * time.Second, Staffed: 1, SignedIn: 2}},
		Agents: []acd.AgentSnapshot{
			{Agent: "boris", State: acd.StateReady, Queues: []string{"support"}, Connected: true},
			{Agent: "anna", State: acd.StateOnCall, Call: "c1", Queues: []string{"support"}, Connected: true},
		},
	}
	f.mu.Unlock()
}

type fakeToday struct{ err error }

func (t fakeToday) Today(context.Context, time.Time) (wallboard.Figures, error) {
	sl := 0.75
	return wallboard.Figures{
		Queues:  map[string]wallboard.QueueFigures{"support": {Offered: 4, Answered: 3, ServiceLevel: &sl, ThresholdS: 20}},
		Handled: map[string]int{"anna": 3},
	}, t.err
}

func next(t *testing.T, ch <-chan []byte) wallboard.Message {
	t.Helper()
	select {
	case b := <-ch:
		var m wallboard.Message
		require.NoError(t, json.Unmarshal(b, &m))
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no wallboard message")
	}
	return wallboard.Message{}
}

func start(t *testing.T, src wallboard.Source, today wallboard.Today) *wallboard.Board {
	b := wallboard.New(src, today, wallboard.Options{Interval: 20 * time.Millisecond, Reasons: []string{"break"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

// A watcher gets the state at once, then only changes; nobody watching
// means the ACD is not asked.
func TestBoardSendsSnapshotThenChanges(t *testing.T) {
	desk := &fakeDesk{}
	desk.set(2)
	b := start(t, desk, fakeToday{})
	time.Sleep(100 * time.Millisecond)
	require.Zero(t, desk.reads.Load(), "nobody watches: the live state is not read")

	ch, stop := b.Watch()
	defer stop()
	m := next(t, ch)
	require.Equal(t, "wallboard", m.Type)
	require.Equal(t, []string{"break"}, m.Reasons)
	require.Len(t, m.Queues, 1)
	q := m.Queues[0]
	require.Equal(t, 2, q.Waiting)
	require.Equal(t, int64(42000), q.LongestWaitMS)
	require.Equal(t, map[string]int{"ready": 1, "on_call": 1}, q.Agents)
	require.Equal(t, 4, q.Today.Offered)
	require.InDelta(t, 0.75, *q.Today.ServiceLevel, 1e-9)
	require.Equal(t, []string{"anna", "boris"}, []string{m.Agents[0].ID, m.Agents[1].ID})
	require.Equal(t, &wallboard.CallView{ID: "c1", From: "1001", Queue: "support", Since: 1_700_000_000_000}, m.Agents[0].Call)
	require.Equal(t, 3, m.Agents[0].HandledToday)

	// Nothing changes: nothing is sent.
	select {
	case <-ch:
		t.Fatal("an unchanged state was sent again")
	case <-time.After(150 * time.Millisecond):
	}
	desk.set(0)
	require.Equal(t, 0, next(t, ch).Queues[0].Waiting)
}

// A watcher that does not read keeps only the newest message; a second
// watcher gets the current state at once.
func TestSlowWatcherGetsTheNewest(t *testing.T) {
	desk := &fakeDesk{}
	desk.set(1)
	b := start(t, desk, nil)
	slow, stop := b.Watch()
	defer stop()
	require.Eventually(t, func() bool { return len(slow) == 1 }, 5*time.Second, 5*time.Millisecond)
	for w := 2; w <= 5; w++ {
		desk.set(w)
		time.Sleep(60 * time.Millisecond)
	}
	m := next(t, slow)
	require.Equal(t, 5, m.Queues[0].Waiting, "the older states were dropped, not queued")
	fast, stop2 := b.Watch()
	defer stop2()
	require.Equal(t, 5, next(t, fast).Queues[0].Waiting)
	require.Equal(t, 2, b.Watchers())
	stop2()
	stop2()
	require.Equal(t, 1, b.Watchers())
}

// Today's figures failing leaves the live state flowing, with the reason.
func TestTodayFailureIsShown(t *testing.T) {
	desk := &fakeDesk{}
	desk.set(3)
	b := start(t, desk, fakeToday{err: errors.New("database down")})
	ch, stop := b.Watch()
	defer stop()
	m := next(t, ch)
	require.Equal(t, 3, m.Queues[0].Waiting)
	require.NotNil(t, m.Today)
	require.Contains(t, m.Today.Error, "database down")
}
