// Package storetest is the contract test suite every store.Store
// implementation must pass.
package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

// Run runs the contract suite. open must return a fresh, empty, not yet
// migrated store for each call; Run migrates it and closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	fresh := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		require.NoError(t, s.Migrate(t.Context()), "first Migrate")
		return s
	}
	t.Run("MigrateTwice", func(t *testing.T) { testMigrateTwice(t, fresh(t)) })
	t.Run("SaveAndGetRoundTrip", func(t *testing.T) { testRoundTrip(t, fresh(t)) })
	t.Run("EmptyPathAndVars", func(t *testing.T) { testEmpty(t, fresh(t)) })
	t.Run("UpsertLastWriteWins", func(t *testing.T) { testUpsert(t, fresh(t)) })
	t.Run("EventsIdempotent", func(t *testing.T) { testEventsIdempotent(t, fresh(t)) })
	t.Run("GetNotFound", func(t *testing.T) { testNotFound(t, fresh(t)) })
	t.Run("ListEmpty", func(t *testing.T) { testListEmpty(t, fresh(t)) })
	t.Run("ListNewestFirstPaginated", func(t *testing.T) { testListPaginated(t, fresh(t)) })
	t.Run("ListBadCursor", func(t *testing.T) { testBadCursor(t, fresh(t)) })
	t.Run("RejectsEmptyIDs", func(t *testing.T) { testRejectsEmptyIDs(t, fresh(t)) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrent(t, fresh(t)) })
	t.Run("PingAndCloseTwice", func(t *testing.T) { testPingClose(t, open(t)) })
	runPeople(t, fresh)     // people.go: users, sessions, API tokens, agent events
	runRecordings(t, fresh) // recordings.go: recordings and the audit log
	runTickets(t, fresh)    // tickets.go: tickets and the webhook outbox
	runOrphans(t, fresh)    // orphans.go: what a crashed process left open
	runStats(t, fresh)      // stats.go: the KPI reports' reads
}

// base is an arrival time with sub-microsecond digits, which stores drop.
var base = time.Date(2026, 11, 24, 10, 30, 15, 123456789, time.FixedZone("MSK", 3*3600))

// SampleCall returns a call with every field set, arrived at arrived.
func SampleCall(id string, arrived time.Time) store.Call {
	answered := arrived.Add(2 * time.Second)
	queued := arrived.Add(20 * time.Second)
	offered := arrived.Add(31 * time.Second)
	connected := arrived.Add(33 * time.Second)
	ended := arrived.Add(95 * time.Second)
	return store.Call{
		ID:          id,
		SIPCallID:   "a84b4c76e66710@pc33.example.com",
		From:        "sip:+74951234567@trunk.example.com",
		To:          "sip:8800@hotline.example.com",
		Trunk:       "main",
		Source:      "127.0.0.1:5070",
		ArrivedAt:   arrived,
		AnsweredAt:  &answered,
		EndedAt:     &ended,
		Flow:        "support",
		IVRPath:     []string{"welcome", "language", "main", "serial"},
		Digits:      "21123456#",
		Vars:        map[string]string{"serial": "123456", "product": "роутер", "empty": ""},
		Language:    "ru",
		Outcome:     "queue",
		Queue:       "tech",
		HangupCause: "normal clearing",
		HangupSide:  "caller",
		QueuedAt:    &queued,
		OfferedAt:   &offered,
		ConnectedAt: &connected,
		Agent:       "anna",
		Disposition: "resolved",
		Note:        "Роутер перезагружен; works again",
		UpdatedAt:   ended.Add(time.Millisecond),
	}
}

// Normalized is c as a store returns it: UTC times at microsecond precision.
func Normalized(c store.Call) store.Call {
	micro := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
	c.ArrivedAt, c.UpdatedAt = micro(c.ArrivedAt), micro(c.UpdatedAt)
	for _, p := range []**time.Time{&c.AnsweredAt, &c.EndedAt, &c.QueuedAt, &c.OfferedAt, &c.ConnectedAt} {
		if *p != nil {
			t := micro(**p)
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

func testMigrateTwice(t *testing.T, s store.Store) {
	ctx := t.Context()
	require.NoError(t, s.SaveCall(ctx, SampleCall("c1", base)))
	require.NoError(t, s.Migrate(ctx), "second Migrate must be a no-op")
	require.NoError(t, s.Migrate(ctx), "third Migrate must be a no-op")
	_, _, err := s.GetCall(ctx, "c1")
	require.NoError(t, err, "data survives a repeated Migrate")
}

func testRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := SampleCall("0193a1b2-0000-7000-8000-000000000001", base)
	require.NoError(t, s.SaveCall(ctx, in))
	got, events, err := s.GetCall(ctx, in.ID)
	require.NoError(t, err)
	require.Equal(t, Normalized(in), got)
	require.Empty(t, events)
	require.Equal(t, time.UTC, got.ArrivedAt.Location(), "times come back in UTC")
}

func testEmpty(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := store.Call{ID: "bare", ArrivedAt: base, UpdatedAt: base, IVRPath: []string{}, Vars: map[string]string{}}
	require.NoError(t, s.SaveCall(ctx, in))
	got, _, err := s.GetCall(ctx, "bare")
	require.NoError(t, err)
	require.Nil(t, got.AnsweredAt)
	require.Nil(t, got.EndedAt)
	require.Nil(t, got.IVRPath)
	require.Nil(t, got.Vars)
	require.Equal(t, Normalized(in), got)
}

func testUpsert(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := SampleCall("c1", base)
	first.AnsweredAt, first.EndedAt, first.Outcome, first.HangupSide = nil, nil, "", ""
	first.IVRPath = []string{"welcome"}
	require.NoError(t, s.SaveCall(ctx, first))

	last := SampleCall("c1", base)
	last.Vars = map[string]string{"serial": "999"}
	require.NoError(t, s.SaveCall(ctx, last))
	require.NoError(t, s.SaveCall(ctx, last), "saving the same snapshot again is harmless")

	got, _, err := s.GetCall(ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, Normalized(last), got)

	calls, next, err := s.ListCalls(ctx, store.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, calls, 1, "an upsert never duplicates the row")
	require.Empty(t, next)
}

func testEventsIdempotent(t *testing.T, s store.Store) {
	ctx := t.Context()
	require.NoError(t, s.SaveCall(ctx, SampleCall("c1", base)))
	ev := func(seq int, kind, detail string) store.Event {
		return store.Event{CallID: "c1", Seq: seq, At: base.Add(time.Duration(seq) * time.Second), Kind: kind, Detail: detail}
	}
	require.NoError(t, s.AppendEvents(ctx, nil), "no events is not an error")
	require.NoError(t, s.AppendEvents(ctx, []store.Event{ev(3, "dtmf", "1"), ev(1, "invite", ""), ev(2, "answer", "")}))
	// A retried batch overlapping what is stored: the stored events win.
	require.NoError(t, s.AppendEvents(ctx, []store.Event{ev(2, "answer", "changed"), ev(3, "dtmf", "1"), ev(4, "bye", "caller")}))
	require.NoError(t, s.AppendEvents(ctx, []store.Event{{CallID: "other", Seq: 1, At: base, Kind: "invite"}}))

	_, events, err := s.GetCall(ctx, "c1")
	require.NoError(t, err)
	require.Len(t, events, 4)
	for i, e := range events {
		require.Equal(t, i+1, e.Seq, "events come back in seq order")
		require.Equal(t, "c1", e.CallID)
		require.Equal(t, base.Add(time.Duration(e.Seq)*time.Second).UTC().Truncate(time.Microsecond), e.At)
	}
	require.Equal(t, "", events[1].Detail, "a replayed event does not overwrite the stored one")
	require.Equal(t, "bye", events[3].Kind)
	require.Equal(t, "caller", events[3].Detail)
}

func testNotFound(t *testing.T, s store.Store) {
	_, _, err := s.GetCall(t.Context(), "no-such-call")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testListEmpty(t *testing.T, s store.Store) {
	calls, next, err := s.ListCalls(t.Context(), store.Page{})
	require.NoError(t, err)
	require.Empty(t, calls)
	require.Empty(t, next)
}

func testListPaginated(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Seven calls; four share one arrival time (to the microsecond), so the
	// id breaks the tie and pages must not skip or repeat any of them.
	same := base.Add(time.Minute)
	arrivals := map[string]time.Time{
		"a": base,
		"b": same, "c": same, "d": same.Add(200 * time.Nanosecond), "e": same,
		"f": base.Add(2 * time.Minute),
		"g": base.Add(-time.Hour),
	}
	for id, at := range arrivals {
		require.NoError(t, s.SaveCall(ctx, SampleCall(id, at)))
	}
	want := []string{"f", "e", "d", "c", "b", "a", "g"}

	for _, limit := range []int{1, 2, 3, 7, 100} {
		t.Run(fmt.Sprintf("limit%d", limit), func(t *testing.T) {
			var got []string
			cursor := ""
			for page := 0; page < 20; page++ {
				calls, next, err := s.ListCalls(ctx, store.Page{Limit: limit, Cursor: cursor})
				require.NoError(t, err)
				require.LessOrEqual(t, len(calls), limit)
				for _, c := range calls {
					got = append(got, c.ID)
					require.Equal(t, Normalized(SampleCall(c.ID, arrivals[c.ID])), c)
				}
				if next == "" {
					break
				}
				require.NotEmpty(t, calls, "a page with a next cursor is never empty")
				cursor = next
			}
			require.Equal(t, want, got, "newest first, ties broken by id, every call exactly once")
		})
	}
}

func testBadCursor(t *testing.T, s store.Store) {
	for _, c := range []string{"%%%", "bm90LWEtY3Vyc29y", "eDox"} {
		_, _, err := s.ListCalls(t.Context(), store.Page{Limit: 5, Cursor: c})
		require.ErrorIs(t, err, store.ErrBadCursor, "cursor %q", c)
	}
}

func testRejectsEmptyIDs(t *testing.T, s store.Store) {
	ctx := t.Context()
	require.ErrorIs(t, s.SaveCall(ctx, store.Call{ArrivedAt: base}), store.ErrRejected)
	require.ErrorIs(t, s.AppendEvents(ctx, []store.Event{{Seq: 1, At: base}}), store.ErrRejected)
}

func testConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const writers, perWriter = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter*2)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				id := fmt.Sprintf("w%d-c%02d", w, i)
				errs <- s.SaveCall(ctx, SampleCall(id, base.Add(time.Duration(w*perWriter+i)*time.Second)))
				errs <- s.AppendEvents(ctx, []store.Event{{CallID: id, Seq: 1, At: base, Kind: "invite"}})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	calls, next, err := s.ListCalls(ctx, store.Page{Limit: writers * perWriter})
	require.NoError(t, err)
	require.Len(t, calls, writers*perWriter)
	require.Empty(t, next)
}

func testPingClose(t *testing.T, s store.Store) {
	require.NoError(t, s.Ping(t.Context()))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
}
