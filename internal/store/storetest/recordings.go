package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

// runRecordings is the contract of recordings and the audit log.
func runRecordings(t *testing.T, fresh func(t *testing.T) store.Store) {
	t.Run("RecordingRoundTrip", func(t *testing.T) { testRecordingRoundTrip(t, fresh(t)) })
	t.Run("RecordingBare", func(t *testing.T) { testRecordingBare(t, fresh(t)) })
	t.Run("RecordingUpsertKeepsLegalHold", func(t *testing.T) { testRecordingUpsert(t, fresh(t)) })
	t.Run("RecordingNotFound", func(t *testing.T) { testRecordingNotFound(t, fresh(t)) })
	t.Run("RecordingRejectsEmptyIDs", func(t *testing.T) { testRecordingRejected(t, fresh(t)) })
	t.Run("ListRecordingsFilters", func(t *testing.T) { testListRecordingsFilters(t, fresh(t)) })
	t.Run("ListRecordingsPaginated", func(t *testing.T) { testListRecordingsPaginated(t, fresh(t)) })
	t.Run("ListRecordingsBadCursor", func(t *testing.T) { testListRecordingsBadCursor(t, fresh(t)) })
	t.Run("ExpiredRecordings", func(t *testing.T) { testExpiredRecordings(t, fresh(t)) })
	t.Run("RecordingConcurrentSaves", func(t *testing.T) { testRecordingConcurrent(t, fresh(t)) })
	t.Run("AuditIdempotent", func(t *testing.T) { testAuditIdempotent(t, fresh(t)) })
	t.Run("ListAuditFilters", func(t *testing.T) { testListAuditFilters(t, fresh(t)) })
}

// SampleRecording returns a finished recording of callID with every field
// set (two agents, two markers, on legal hold), started at started.
func SampleRecording(id, callID string, started time.Time) store.Recording {
	ended := started.Add(95 * time.Second)
	retain := started.Add(90 * 24 * time.Hour)
	return store.Recording{
		ID:     id,
		CallID: callID,
		Path:   "2026/11/24/" + id + ".wav",
		Format: store.FormatSealedWAV,
		State:  store.RecordingRecovered,
		Reason: "hotline restarted; finished from the .part file",
		Queue:  "tech",
		Segments: []store.RecordingSegment{
			{Agent: "anna", StartMS: 1200, EndMS: 40000},
			{Agent: "boris", StartMS: 41000, EndMS: 94000},
		},
		Markers: []store.RecordingMarker{
			{Kind: "hold", StartMS: 20000, EndMS: 25000, By: "anna"},
			{Kind: "pci", StartMS: 50000, EndMS: 61000},
		},
		StartedAt:   started,
		EndedAt:     &ended,
		DurationMS:  95000,
		Bytes:       3_040_044,
		SHA256:      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		RetainUntil: &retain,
		LegalHold:   true,
		UpdatedAt:   ended.Add(time.Millisecond),
	}
}

// NormalizedRecording is r as a store returns it: UTC times at microsecond
// precision, nil for empty segments and markers.
func NormalizedRecording(r store.Recording) store.Recording {
	micro := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
	r.StartedAt, r.UpdatedAt = micro(r.StartedAt), micro(r.UpdatedAt)
	for _, p := range []**time.Time{&r.EndedAt, &r.RetainUntil} {
		if *p != nil {
			t := micro(**p)
			*p = &t
		}
	}
	if len(r.Segments) == 0 {
		r.Segments = nil
	}
	if len(r.Markers) == 0 {
		r.Markers = nil
	}
	return r
}

// recIDs are the ids of recs, in order.
func recIDs(recs []store.Recording) []string {
	ids := []string{}
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	return ids
}

func testRecordingRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := SampleRecording("0193a1b2-0000-7000-8000-0000000000r1", "c1", base)
	require.NoError(t, s.SaveRecording(ctx, in))
	got, err := s.GetRecording(ctx, in.ID)
	require.NoError(t, err)
	require.Equal(t, NormalizedRecording(in), got)
	require.True(t, got.LegalHold, "a new row takes the recording's legal hold")
	require.Equal(t, time.UTC, got.StartedAt.Location(), "times come back in UTC")
	require.Equal(t, time.UTC, got.RetainUntil.Location())

	recs, next, err := s.ListRecordings(ctx, store.RecordingFilter{})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Equal(t, []store.Recording{NormalizedRecording(in)}, recs, "a listed recording equals the one read")
}

func testRecordingBare(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := store.Recording{ID: "bare", CallID: "c1", Path: "2026/11/24/bare.wav.part", Format: store.FormatWAV,
		State: store.RecordingActive, StartedAt: base, UpdatedAt: base,
		Segments: []store.RecordingSegment{}, Markers: []store.RecordingMarker{}}
	require.NoError(t, s.SaveRecording(ctx, in))
	got, err := s.GetRecording(ctx, "bare")
	require.NoError(t, err)
	require.Nil(t, got.Segments, "empty segments come back nil")
	require.Nil(t, got.Markers, "empty markers come back nil")
	require.Nil(t, got.EndedAt)
	require.Nil(t, got.RetainUntil)
	require.False(t, got.LegalHold)
	require.Equal(t, NormalizedRecording(in), got)

	// A segment still open (EndMS 0) and one without an agent name.
	in.Segments = []store.RecordingSegment{{Agent: "", StartMS: 10}, {Agent: "anna", StartMS: 500}}
	require.NoError(t, s.SaveRecording(ctx, in))
	got, err = s.GetRecording(ctx, "bare")
	require.NoError(t, err)
	require.Equal(t, NormalizedRecording(in), got)
	recs, _, err := s.ListRecordings(ctx, store.RecordingFilter{Agent: "anna"})
	require.NoError(t, err)
	require.Equal(t, []string{"bare"}, recIDs(recs))
}

func testRecordingUpsert(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := SampleRecording("r1", "c1", base)
	first.State, first.Reason, first.EndedAt, first.SHA256 = store.RecordingActive, "", nil, ""
	first.Path += ".part"
	first.Segments = first.Segments[:1]
	first.LegalHold = false
	require.NoError(t, s.SaveRecording(ctx, first))

	require.NoError(t, s.SetLegalHold(ctx, "r1", true))
	got, err := s.GetRecording(ctx, "r1")
	require.NoError(t, err)
	require.True(t, got.LegalHold)

	// The recorder's next snapshot knows nothing of the hold.
	last := SampleRecording("r1", "c1", base)
	last.State, last.Reason = store.RecordingComplete, ""
	last.Segments = []store.RecordingSegment{{Agent: "boris", StartMS: 0, EndMS: 90000}}
	last.LegalHold = false
	require.NoError(t, s.SaveRecording(ctx, last))
	require.NoError(t, s.SaveRecording(ctx, last), "saving the same snapshot again is harmless")

	got, err = s.GetRecording(ctx, "r1")
	require.NoError(t, err)
	want := NormalizedRecording(last)
	want.LegalHold = true
	require.Equal(t, want, got, "last write wins, except the legal hold set in between")

	// Clearing the hold, then a snapshot that says held: the stored value stays.
	require.NoError(t, s.SetLegalHold(ctx, "r1", false))
	last.LegalHold = true
	require.NoError(t, s.SaveRecording(ctx, last))
	got, err = s.GetRecording(ctx, "r1")
	require.NoError(t, err)
	require.False(t, got.LegalHold, "SaveRecording never changes the legal hold of a stored recording")
	require.NoError(t, s.SetLegalHold(ctx, "r1", false), "clearing a cleared hold is no error")

	recs, next, err := s.ListRecordings(ctx, store.RecordingFilter{})
	require.NoError(t, err)
	require.Len(t, recs, 1, "an upsert never duplicates the row")
	require.Empty(t, next)

	// The agents follow the latest snapshot.
	byAnna, _, err := s.ListRecordings(ctx, store.RecordingFilter{Agent: "anna"})
	require.NoError(t, err)
	require.Empty(t, byAnna, "anna's segment was replaced")
	byBoris, _, err := s.ListRecordings(ctx, store.RecordingFilter{Agent: "boris"})
	require.NoError(t, err)
	require.Equal(t, []string{"r1"}, recIDs(byBoris))
}

func testRecordingNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetRecording(ctx, "no-such-recording")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.SetLegalHold(ctx, "no-such-recording", true), store.ErrNotFound)
	require.ErrorIs(t, s.SetLegalHold(ctx, "", false), store.ErrNotFound)
	recs, next, err := s.ListRecordings(ctx, store.RecordingFilter{})
	require.NoError(t, err)
	require.Empty(t, recs, "a fresh store has no recordings")
	require.Empty(t, next)
	expired, err := s.ExpiredRecordings(ctx, base, 10)
	require.NoError(t, err)
	require.Empty(t, expired)
	audit, err := s.ListAudit(ctx, store.AuditFilter{})
	require.NoError(t, err)
	require.Empty(t, audit)
}

func testRecordingRejected(t *testing.T, s store.Store) {
	ctx := t.Context()
	require.ErrorIs(t, s.SaveRecording(ctx, store.Recording{CallID: "c1", StartedAt: base}), store.ErrRejected)
	require.ErrorIs(t, s.AppendAudit(ctx, []store.AuditEvent{{ID: "a1", At: base}, {At: base, Action: "recording.play"}}),
		store.ErrRejected)
	audit, err := s.ListAudit(ctx, store.AuditFilter{})
	require.NoError(t, err)
	require.Empty(t, audit, "a rejected batch stores nothing")
}

func testListRecordingsFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	rec := func(id, call, queue, state string, started time.Time, agents ...string) {
		t.Helper()
		r := SampleRecording(id, call, started)
		r.Queue, r.State = queue, state
		r.Segments = nil
		for i, a := range agents {
			r.Segments = append(r.Segments, store.RecordingSegment{Agent: a, StartMS: int64(i) * 1000, EndMS: int64(i)*1000 + 900})
		}
		require.NoError(t, s.SaveRecording(ctx, r))
	}
	rec("r1", "c1", "tech", store.RecordingComplete, base, "anna")
	rec("r2", "c1", "billing", store.RecordingComplete, base.Add(time.Minute), "annabel")
	rec("r3", "c2", "tech", store.RecordingFailed, base.Add(2*time.Minute), "anna", "boris", "anna")
	rec("r4", "c3", "tech", store.RecordingActive, base.Add(3*time.Minute))
	rec("r5", "c4", "billing", store.RecordingDeleted, base.Add(-time.Hour), "Anna", "ann_")

	for _, tc := range []struct {
		name string
		f    store.RecordingFilter
		want []string
	}{
		{"all", store.RecordingFilter{}, []string{"r4", "r3", "r2", "r1", "r5"}},
		{"call", store.RecordingFilter{CallID: "c1"}, []string{"r2", "r1"}},
		{"unknown call", store.RecordingFilter{CallID: "c9"}, []string{}},
		{"agent exactly", store.RecordingFilter{Agent: "anna"}, []string{"r3", "r1"}},
		{"agent is no prefix", store.RecordingFilter{Agent: "annabel"}, []string{"r2"}},
		{"agent part", store.RecordingFilter{Agent: "ann"}, []string{}},
		{"agent pattern", store.RecordingFilter{Agent: "ann%"}, []string{}},
		{"agent underscore", store.RecordingFilter{Agent: "ann_"}, []string{"r5"}},
		{"agent case", store.RecordingFilter{Agent: "Anna"}, []string{"r5"}},
		{"second agent", store.RecordingFilter{Agent: "boris"}, []string{"r3"}},
		{"queue", store.RecordingFilter{Queue: "tech"}, []string{"r4", "r3", "r1"}},
		{"state", store.RecordingFilter{State: store.RecordingComplete}, []string{"r2", "r1"}},
		{"from inclusive", store.RecordingFilter{From: base.Add(time.Minute)}, []string{"r4", "r3", "r2"}},
		{"to exclusive", store.RecordingFilter{To: base.Add(2 * time.Minute)}, []string{"r2", "r1", "r5"}},
		{"window", store.RecordingFilter{From: base, To: base.Add(2 * time.Minute)}, []string{"r2", "r1"}},
		{"all at once", store.RecordingFilter{CallID: "c2", Agent: "anna", Queue: "tech", State: store.RecordingFailed,
			From: base, To: base.Add(time.Hour)}, []string{"r3"}},
		{"agent and queue", store.RecordingFilter{Agent: "anna", Queue: "billing"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, next, err := s.ListRecordings(ctx, tc.f)
			require.NoError(t, err)
			require.Empty(t, next)
			require.Equal(t, tc.want, recIDs(recs))
		})
	}
	// Each recording is listed once, however many segments its agent has.
	recs, _, err := s.ListRecordings(ctx, store.RecordingFilter{Agent: "anna", Page: store.Page{Limit: 1}})
	require.NoError(t, err)
	require.Equal(t, []string{"r3"}, recIDs(recs))
	require.Equal(t, []string{"anna", "boris"}, recs[0].Agents())
}

func testListRecordingsPaginated(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Seven recordings; four share one start time (to the microsecond), so
	// the id breaks the tie and pages must not skip or repeat any of them.
	same := base.Add(time.Minute)
	starts := map[string]time.Time{
		"a": base,
		"b": same, "c": same, "d": same.Add(200 * time.Nanosecond), "e": same,
		"f": base.Add(2 * time.Minute),
		"g": base.Add(-time.Hour),
	}
	for id, at := range starts {
		r := SampleRecording(id, "call-"+id, at)
		if id == "b" || id == "e" || id == "g" {
			r.Queue = "billing"
		}
		require.NoError(t, s.SaveRecording(ctx, r))
	}
	for _, tc := range []struct {
		name string
		f    store.RecordingFilter
		want []string
	}{
		{"all", store.RecordingFilter{}, []string{"f", "e", "d", "c", "b", "a", "g"}},
		{"queue", store.RecordingFilter{Queue: "tech"}, []string{"f", "d", "c", "a"}},
		{"agent and window", store.RecordingFilter{Agent: "boris", From: base, To: base.Add(2 * time.Minute)},
			[]string{"e", "d", "c", "b", "a"}},
	} {
		for _, limit := range []int{1, 2, 3, 7, 100} {
			t.Run(fmt.Sprintf("%s/limit%d", tc.name, limit), func(t *testing.T) {
				var got []string
				f := tc.f
				for page := 0; page < 20; page++ {
					f.Page.Limit = limit
					recs, next, err := s.ListRecordings(ctx, f)
					require.NoError(t, err)
					require.LessOrEqual(t, len(recs), limit)
					for _, r := range recs {
						got = append(got, r.ID)
						want := NormalizedRecording(SampleRecording(r.ID, "call-"+r.ID, starts[r.ID]))
						want.Queue = r.Queue
						require.Equal(t, want, r)
					}
					if next == "" {
						break
					}
					require.NotEmpty(t, recs, "a page with a next cursor is never empty")
					f.Page.Cursor = next
				}
				require.Equal(t, tc.want, got, "newest first, ties broken by id, every recording exactly once")
			})
		}
	}
}

func testListRecordingsBadCursor(t *testing.T, s store.Store) {
	for _, c := range []string{"%%%", "bm90LWEtY3Vyc29y", "eDox"} {
		_, _, err := s.ListRecordings(t.Context(), store.RecordingFilter{Page: store.Page{Limit: 5, Cursor: c}})
		require.ErrorIs(t, err, store.ErrBadCursor, "cursor %q", c)
	}
}

func testExpiredRecordings(t *testing.T, s store.Store) {
	ctx := t.Context()
	day := 24 * time.Hour
	now := base.Add(10 * day)
	rec := func(id, state string, retain *time.Time, hold bool) {
		t.Helper()
		r := SampleRecording(id, "call-"+id, base)
		r.State, r.RetainUntil, r.LegalHold = state, retain, hold
		require.NoError(t, s.SaveRecording(ctx, r))
	}
	at := func(d time.Duration) *time.Time { t := base.Add(d); return &t }
	rec("e1", store.RecordingComplete, at(day), false)
	rec("e2", store.RecordingFailed, at(2*day), false)
	rec("e10", store.RecordingComplete, at(2*day), false) // same deadline as e2: the id breaks the tie
	rec("e3", store.RecordingRecovered, at(3*day), false)
	rec("held-later", store.RecordingComplete, at(day), false)
	require.NoError(t, s.SetLegalHold(ctx, "held-later", true))
	rec("held-new", store.RecordingComplete, at(day), true)
	rec("deleted", store.RecordingDeleted, at(day), false)
	rec("recording", store.RecordingActive, at(day), false)
	rec("not-yet", store.RecordingComplete, at(20*day), false)
	rec("just-after", store.RecordingComplete, at(10*day+time.Microsecond), false)
	rec("forever", store.RecordingComplete, nil, false)
	rec("at-now", store.RecordingComplete, at(10*day), false) // at the deadline: expired

	expired, err := s.ExpiredRecordings(ctx, now, 100)
	require.NoError(t, err)
	require.Equal(t, []string{"e1", "e10", "e2", "e3", "at-now"}, recIDs(expired),
		"oldest deadline first; held, deleted, recording and not yet expired rows stay out")
	require.Equal(t, NormalizedRecording(func() store.Recording {
		r := SampleRecording("e1", "call-e1", base)
		r.State, r.RetainUntil, r.LegalHold = store.RecordingComplete, at(day), false
		return r
	}()), expired[0])

	expired, err = s.ExpiredRecordings(ctx, now, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"e1", "e10"}, recIDs(expired), "at most limit")
	expired, err = s.ExpiredRecordings(ctx, now, 0)
	require.NoError(t, err)
	require.Len(t, expired, 5, "limit 0 takes the default page limit")

	// A hold set and a hold lifted change the answer at once.
	require.NoError(t, s.SetLegalHold(ctx, "e1", true))
	require.NoError(t, s.SetLegalHold(ctx, "held-later", false))
	expired, err = s.ExpiredRecordings(ctx, now, 100)
	require.NoError(t, err)
	require.Equal(t, []string{"held-later", "e10", "e2", "e3", "at-now"}, recIDs(expired))

	// The sweeper deletes the file and saves the row as deleted.
	r, err := s.GetRecording(ctx, "e10")
	require.NoError(t, err)
	r.State, r.Reason = store.RecordingDeleted, "retention"
	require.NoError(t, s.SaveRecording(ctx, r))
	expired, err = s.ExpiredRecordings(ctx, now, 100)
	require.NoError(t, err)
	require.Equal(t, []string{"held-later", "e2", "e3", "at-now"}, recIDs(expired))

	expired, err = s.ExpiredRecordings(ctx, base, 100)
	require.NoError(t, err)
	require.Empty(t, expired, "nothing expires before its deadline")
}

func testRecordingConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	agents := []string{"anna", "annabel", "boris", "vera", "gleb", "dina"}
	const writers, perWriter = 6, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter*2)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				r := SampleRecording("shared", "c1", base)
				r.Segments = []store.RecordingSegment{{Agent: agents[w]}, {Agent: agents[(w+i)%len(agents)]}}
				r.UpdatedAt = base.Add(time.Duration(w*perWriter+i) * time.Second)
				errs <- s.SaveRecording(ctx, r)
				errs <- s.SaveRecording(ctx, SampleRecording(fmt.Sprintf("w%d-r%d", w, i), "c2", base))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := s.GetRecording(ctx, "shared")
	require.NoError(t, err)
	var listedBy []string
	for _, a := range agents {
		recs, _, err := s.ListRecordings(ctx, store.RecordingFilter{CallID: "c1", Agent: a})
		require.NoError(t, err)
		if len(recs) > 0 {
			listedBy = append(listedBy, a)
		}
	}
	want := got.Agents()
	slices.Sort(want)
	slices.Sort(listedBy)
	require.Equal(t, want, listedBy, "the agents index matches the stored segments")
	all, _, err := s.ListRecordings(ctx, store.RecordingFilter{Page: store.Page{Limit: store.MaxPageLimit}})
	require.NoError(t, err)
	require.Len(t, all, 1+writers*perWriter)
}

func testAuditIdempotent(t *testing.T, s store.Store) {
	ctx := t.Context()
	ev := func(i int, action string) store.AuditEvent {
		return store.AuditEvent{ID: fmt.Sprintf("a%02d", i), At: base.Add(time.Duration(i) * time.Second),
			Actor: "sam", Role: "supervisor", Action: action, Object: "r1", CallID: "c1",
			Detail: "bytes=0-1023", Source: "127.0.0.1:51234"}
	}
	require.NoError(t, s.AppendAudit(ctx, nil), "no events is not an error")
	require.NoError(t, s.AppendAudit(ctx, []store.AuditEvent{ev(3, "recording.download"), ev(1, "recording.play")}))
	// A retried batch overlapping what is stored: the stored events win.
	changed := ev(3, "recording.changed")
	changed.Detail = "changed"
	require.NoError(t, s.AppendAudit(ctx, []store.AuditEvent{changed, ev(2, "recording.hold"), ev(2, "recording.hold")}))

	got, err := s.ListAudit(ctx, store.AuditFilter{})
	require.NoError(t, err)
	want := []store.AuditEvent{ev(1, "recording.play"), ev(2, "recording.hold"), ev(3, "recording.download")}
	for i := range want {
		want[i].At = want[i].At.UTC().Truncate(time.Microsecond)
	}
	require.Equal(t, want, got, "oldest first; a replayed event does not overwrite the stored one")
	require.Equal(t, time.UTC, got[0].At.Location())
}

func testListAuditFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	var all []store.AuditEvent
	add := func(id, actor, action, object string, at time.Time) {
		all = append(all, store.AuditEvent{ID: id, At: at, Actor: actor, Role: "supervisor", Action: action,
			Object: object, CallID: "call-" + object, Detail: "", Source: "10.0.0.7:40000"})
	}
	add("x1", "sam", "recording.play", "r1", base)
	add("x2", "token:export", "recording.download", "r1", base.Add(time.Second))
	add("x3", "sam", "recording.denied", "r2", base.Add(2*time.Second))
	add("x4", "anna", "recording.denied", "r1", base.Add(3*time.Second))
	add("x5", "sam", "recording.play", "r2", base.Add(4*time.Second))
	add("x0", "sam", "recording.hold", "r1", base.Add(4*time.Second)) // same time as x5: the id breaks the tie
	// Stored in two batches, out of order.
	require.NoError(t, s.AppendAudit(ctx, []store.AuditEvent{all[4], all[0], all[5]}))
	require.NoError(t, s.AppendAudit(ctx, []store.AuditEvent{all[3], all[1], all[2]}))

	ids := func(ev []store.AuditEvent) []string {
		out := []string{}
		for _, e := range ev {
			out = append(out, e.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"all", store.AuditFilter{}, []string{"x1", "x2", "x3", "x4", "x0", "x5"}},
		{"object", store.AuditFilter{Object: "r1"}, []string{"x1", "x2", "x4", "x0"}},
		{"actor", store.AuditFilter{Actor: "sam"}, []string{"x1", "x3", "x0", "x5"}},
		{"token actor", store.AuditFilter{Actor: "token:export"}, []string{"x2"}},
		{"action", store.AuditFilter{Action: "recording.denied"}, []string{"x3", "x4"}},
		{"from inclusive", store.AuditFilter{From: base.Add(3 * time.Second)}, []string{"x4", "x0", "x5"}},
		{"to exclusive", store.AuditFilter{To: base.Add(3 * time.Second)}, []string{"x1", "x2", "x3"}},
		{"window", store.AuditFilter{From: base.Add(time.Second), To: base.Add(4 * time.Second)}, []string{"x2", "x3", "x4"}},
		{"limit", store.AuditFilter{Limit: 2}, []string{"x1", "x2"}},
		{"combined", store.AuditFilter{Object: "r2", Actor: "sam", Action: "recording.play"}, []string{"x5"}},
		{"object and window", store.AuditFilter{Object: "r1", From: base.Add(time.Second), Limit: 2}, []string{"x2", "x4"}},
		{"nothing", store.AuditFilter{Object: "r9"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tc.f)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(got))
		})
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{Object: "r2", Action: "recording.denied"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	want := all[2]
	want.At = want.At.UTC().Truncate(time.Microsecond)
	require.Equal(t, want, got[0], "every field round-trips")
}
