package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

// runStats is the contract of the KPI reports' reads.
func runStats(t *testing.T, fresh func(t *testing.T) store.Store) {
	t.Run("ListCallsBetween", func(t *testing.T) { testListCallsBetween(t, fresh(t)) })
	t.Run("ListCallsBetweenEmpty", func(t *testing.T) { testListCallsBetweenEmpty(t, fresh(t)) })
	t.Run("CallerCalls", func(t *testing.T) { testCallerCalls(t, fresh(t)) })
}

func testCallerCalls(t *testing.T, s store.Store) {
	ctx := t.Context()
	since := base.Add(time.Hour)
	call := func(id, from string, at time.Duration, outcome string) store.Call {
		c := SampleCall(id, since.Add(at))
		c.From, c.Outcome = from, outcome
		return c
	}
	for _, c := range []store.Call{
		call("yesterday", "+4930123", -time.Second, "answered"), // before since
		call("first", "+4930123", 0, "answered"),                // since is inclusive
		call("other", "+4930999", time.Minute, "answered"),
		call("second", "+4930123", 2*time.Minute, "abandoned"),
		call("now", "+4930123", 3*time.Minute, ""), // the call asking
	} {
		require.NoError(t, s.SaveCall(ctx, c))
	}
	got, err := s.CallerCalls(ctx, "+4930123", since, "now")
	require.NoError(t, err)
	require.Equal(t, 2, got.Count)
	require.Equal(t, "second", got.Last.ID)
	require.Equal(t, "abandoned", got.Last.Outcome)
	require.Equal(t, since.Add(2*time.Minute).UTC().Truncate(time.Microsecond), got.Last.ArrivedAt.UTC(), "stored to the microsecond")

	none, err := s.CallerCalls(ctx, "+4930555", since, "")
	require.NoError(t, err)
	require.Equal(t, store.CallerCalls{}, none)
}

func testListCallsBetween(t *testing.T, s store.Store) {
	ctx := t.Context()
	from := base.Add(time.Hour)
	to := from.Add(time.Hour)
	// queuedCall arrives lead before it is queued at q, in queue.
	queuedCall := func(id, queue string, q, lead time.Duration) store.Call {
		c := SampleCall(id, from.Add(q-lead))
		at := from.Add(q)
		c.QueuedAt, c.Queue = &at, queue
		return c
	}
	ivrOnly := SampleCall("ivr", from.Add(time.Minute))
	ivrOnly.QueuedAt, ivrOnly.OfferedAt, ivrOnly.ConnectedAt, ivrOnly.Queue = nil, nil, nil, ""
	for _, c := range []store.Call{
		queuedCall("before", "tech", -time.Microsecond, time.Second), // queued just before from
		queuedCall("first", "tech", 0, 2*time.Hour),                  // from is inclusive; arrived long before
		queuedCall("b-mid", "billing", 30*time.Minute, time.Minute),
		queuedCall("a-mid", "tech", 30*time.Minute, time.Minute), // same QueuedAt: ordered by id
		queuedCall("sales", "sales", 40*time.Minute, time.Second),
		queuedCall("last", "tech", time.Hour-time.Microsecond, 0),
		queuedCall("at-to", "tech", time.Hour, time.Minute), // to is exclusive
		ivrOnly,
	} {
		require.NoError(t, s.SaveCall(ctx, c))
	}
	ids := func(calls []store.Call) []string {
		out := []string{}
		for _, c := range calls {
			out = append(out, c.ID)
		}
		return out
	}

	all, err := s.ListCallsBetween(ctx, from, to, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"first", "a-mid", "b-mid", "sales", "last"}, ids(all), "queued in [from, to), by QueuedAt then id")
	want := Normalized(queuedCall("b-mid", "billing", 30*time.Minute, time.Minute))
	require.Equal(t, want, all[2], "the whole call comes back")

	some, err := s.ListCallsBetween(ctx, from, to, []string{"tech", "billing"})
	require.NoError(t, err)
	require.Equal(t, []string{"first", "a-mid", "b-mid", "last"}, ids(some))

	one, err := s.ListCallsBetween(ctx, from, to, []string{"sales"})
	require.NoError(t, err)
	require.Equal(t, []string{"sales"}, ids(one))

	none, err := s.ListCallsBetween(ctx, from, to, []string{"nobody"})
	require.NoError(t, err)
	require.Empty(t, none)

	// Times in another zone name the same instants.
	moscow := time.FixedZone("MSK", 3*3600)
	same, err := s.ListCallsBetween(ctx, from.In(moscow), to.In(moscow), []string{})
	require.NoError(t, err)
	require.Equal(t, ids(all), ids(same))
}

func testListCallsBetweenEmpty(t *testing.T, s store.Store) {
	calls, err := s.ListCallsBetween(t.Context(), base, base.Add(time.Hour), nil)
	require.NoError(t, err)
	require.Empty(t, calls)
}
