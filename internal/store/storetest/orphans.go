package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

// runOrphans is the contract of closing what a crashed process left open.
func runOrphans(t *testing.T, fresh func(t *testing.T) store.Store) {
	t.Run("NodeRoundTrip", func(t *testing.T) { testNodeRoundTrip(t, fresh(t)) })
	t.Run("CloseOrphanedCalls", func(t *testing.T) { testCloseOrphanedCalls(t, fresh(t)) })
	t.Run("CloseOrphansOnlyOfNode", func(t *testing.T) { testCloseOrphansOfNode(t, fresh(t)) })
	t.Run("CrashCloseNotReopened", func(t *testing.T) { testCrashCloseNotReopened(t, fresh(t)) })
	t.Run("CloseOrphanedAgents", func(t *testing.T) { testCloseOrphanedAgents(t, fresh(t)) })
}

// openCall is a call still live at arrived: no end, no outcome.
func openCall(id, node string, arrived time.Time) store.Call {
	c := SampleCall(id, arrived)
	c.EndedAt, c.Outcome, c.HangupSide, c.HangupCause = nil, "", "", ""
	c.ConnectedAt, c.Agent, c.Disposition, c.Note = nil, "", "", ""
	c.Node = node
	c.UpdatedAt = arrived.Add(21 * time.Second)
	return c
}

func testNodeRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := SampleCall("c1", base)
	c.Node = "node-a"
	require.NoError(t, s.SaveCall(ctx, c))
	got, _, err := s.GetCall(ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, "node-a", got.Node)
	calls, _, err := s.ListCalls(ctx, store.Page{})
	require.NoError(t, err)
	require.Equal(t, "node-a", calls[0].Node)
}

func testCloseOrphanedCalls(t *testing.T, s store.Store) {
	ctx := t.Context()
	start := base.Add(time.Hour) // the restarted process's start

	// queued: events up to 40 s after arrival, later than its updated_at.
	queued := openCall("queued", "a", base)
	require.NoError(t, s.SaveCall(ctx, queued))
	require.NoError(t, s.AppendEvents(ctx, []store.Event{
		{CallID: "queued", Seq: 1, At: base, Kind: "arrived"},
		{CallID: "queued", Seq: 2, At: base.Add(40 * time.Second), Kind: "queued", Detail: "support"},
	}))
	// ivr: no events; its updated_at is the last thing known.
	ivr := openCall("ivr", "a", base.Add(time.Minute))
	ivr.QueuedAt, ivr.Queue = nil, ""
	require.NoError(t, s.SaveCall(ctx, ivr))
	// late: updated after the bound (a clock step): the end is the bound.
	late := openCall("late", "a", start.Add(-time.Second))
	late.UpdatedAt = start.Add(time.Minute)
	require.NoError(t, s.SaveCall(ctx, late))
	// ended normally, and one that arrived after the start: left alone.
	done := SampleCall("done", base)
	done.Node = "a"
	require.NoError(t, s.SaveCall(ctx, done))
	fresh := openCall("fresh", "a", start.Add(time.Second))
	require.NoError(t, s.SaveCall(ctx, fresh))

	got, err := s.CloseOrphans(ctx, "a", start)
	require.NoError(t, err)
	require.Equal(t, store.Orphans{Calls: 3}, got)

	micro := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
	for id, end := range map[string]time.Time{
		"queued": base.Add(40 * time.Second),
		"ivr":    ivr.UpdatedAt,
		"late":   start,
	} {
		c, events, err := s.GetCall(ctx, id)
		require.NoError(t, err)
		require.NotNil(t, c.EndedAt, id)
		require.Equal(t, micro(end), *c.EndedAt, "%s: the end is the last thing known, never after the bound", id)
		require.Equal(t, store.OutcomeCrashed, c.Outcome, id)
		require.Equal(t, store.HangupSideHotline, c.HangupSide, id)
		require.Equal(t, store.CauseCrashed, c.HangupCause, id)
		require.NotEmpty(t, events, id)
		last := events[len(events)-1]
		require.Equal(t, store.EventCrashed, last.Kind, id)
		require.Equal(t, len(events), last.Seq, "%s: the crash event follows the call's events", id)
		require.Equal(t, micro(end), last.At, id)
	}
	c, _, err := s.GetCall(ctx, "queued")
	require.NoError(t, err)
	want := Normalized(queued)
	want.EndedAt, want.Outcome, want.HangupSide, want.HangupCause = c.EndedAt, c.Outcome, c.HangupSide, c.HangupCause
	want.UpdatedAt = micro(start)
	require.Equal(t, want, c, "the rest of the row is kept: path, digits, queue, times")

	c, events, err := s.GetCall(ctx, "done")
	require.NoError(t, err)
	require.Equal(t, Normalized(done), c, "a call that ended is not touched")
	require.Empty(t, events)
	c, _, err = s.GetCall(ctx, "fresh")
	require.NoError(t, err)
	require.Nil(t, c.EndedAt, "a call of the new process is not touched")

	var ended []string
	for _, m := range allOutbox(t, s) {
		if m.Topic != store.TopicCallEnded {
			continue
		}
		var p struct {
			CallID string `json:"call_id"`
			Cause  string `json:"cause"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p))
		require.Equal(t, store.CauseCrashed, p.Cause)
		require.Equal(t, m.Key, p.CallID)
		ended = append(ended, p.CallID)
	}
	require.ElementsMatch(t, []string{"queued", "ivr", "late"}, ended, "webhooks learn that the calls ended")

	again, err := s.CloseOrphans(ctx, "a", start)
	require.NoError(t, err)
	require.Equal(t, store.Orphans{}, again, "idempotent")
	_, events, err = s.GetCall(ctx, "queued")
	require.NoError(t, err)
	require.Len(t, events, 3, "one crash event")
	require.Len(t, allOutbox(t, s), 3, "one call.ended each")
}

func testCloseOrphansOfNode(t *testing.T, s store.Store) {
	ctx := t.Context()
	require.NoError(t, s.SaveCall(ctx, openCall("mine", "a", base)))
	require.NoError(t, s.SaveCall(ctx, openCall("other", "b", base)))
	require.NoError(t, s.SaveCall(ctx, openCall("legacy", "", base))) // saved before calls had a node

	got, err := s.CloseOrphans(ctx, "a", base.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, got.Calls)
	for id, closed := range map[string]bool{"mine": true, "legacy": true, "other": false} {
		c, _, err := s.GetCall(ctx, id)
		require.NoError(t, err)
		require.Equal(t, closed, c.EndedAt != nil, id)
	}
}

func testCrashCloseNotReopened(t *testing.T, s store.Store) {
	ctx := t.Context()
	live := openCall("c1", "a", base)
	require.NoError(t, s.SaveCall(ctx, live))
	_, err := s.CloseOrphans(ctx, "a", base.Add(time.Hour))
	require.NoError(t, err)

	stale := live // a snapshot the crashed process wrote or journaled
	stale.UpdatedAt = base.Add(30 * time.Second)
	require.NoError(t, s.SaveCall(ctx, stale))
	c, _, err := s.GetCall(ctx, "c1")
	require.NoError(t, err)
	require.NotNil(t, c.EndedAt, "a snapshot of the live call does not reopen the crash close")
	require.Equal(t, store.OutcomeCrashed, c.Outcome)

	final := SampleCall("c1", base) // the call's own end still wins
	final.Node = "a"
	require.NoError(t, s.SaveCall(ctx, final))
	c, _, err = s.GetCall(ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, Normalized(final), c)
}

func testCloseOrphanedAgents(t *testing.T, s store.Store) {
	ctx := t.Context()
	start := base.Add(time.Hour)
	require.NoError(t, s.SaveCall(ctx, openCall("live", "a", base)))
	require.NoError(t, s.AppendEvents(ctx, []store.Event{{CallID: "live", Seq: 1, At: base.Add(time.Minute), Kind: "hold"}}))
	wrapped := SampleCall("wrapped", base) // ended; its agent was in wrap-up
	wrapped.Node = "a"
	require.NoError(t, s.SaveCall(ctx, wrapped))
	require.NoError(t, s.SaveCall(ctx, openCall("other", "b", base)))

	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	ev := func(id, agent string, sec int, state, call string) store.AgentEvent {
		return store.AgentEvent{ID: id, AgentID: agent, At: at(sec), State: state, CallID: call}
	}
	require.NoError(t, s.AppendAgentEvents(ctx, []store.AgentEvent{
		ev("1", "anna", 1, "ready", ""), ev("2", "anna", 30, "offered", "live"), ev("3", "anna", 33, "on_call", "live"),
		ev("4", "boris", 1, "on_call", "wrapped"), ev("5", "boris", 96, "wrap_up", "wrapped"),
		ev("6", "vera", 1, "ready", ""),                                             // idle: no call to close
		ev("7", "gleb", 5, "on_call", "other"),                                      // another node's call
		ev("8", "dina", 10, "on_call", "wrapped"), ev("9", "dina", 97, "ready", ""), // done
	}))

	got, err := s.CloseOrphans(ctx, "a", start)
	require.NoError(t, err)
	require.Equal(t, store.Orphans{Calls: 1, Agents: 2}, got)

	all, err := s.ListAgentEvents(ctx, "", base, start.Add(time.Hour))
	require.NoError(t, err)
	last := map[string]store.AgentEvent{}
	for _, e := range all {
		last[e.AgentID] = e
	}
	micro := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
	live, _, err := s.GetCall(ctx, "live")
	require.NoError(t, err)
	for agent, want := range map[string]time.Time{
		"anna":  *live.EndedAt,                       // the call's end
		"boris": micro(at(96)).Add(time.Microsecond), // just after the wrap-up began
	} {
		e := last[agent]
		require.Equal(t, store.AgentSignedOut, e.State, agent)
		require.Equal(t, store.CauseCrashed, e.Reason, agent)
		require.Equal(t, want, e.At, agent)
		require.False(t, e.At.After(start), agent)
	}
	require.Equal(t, "live", last["anna"].CallID)
	require.Equal(t, "ready", last["vera"].State)
	require.Equal(t, "on_call", last["gleb"].State)
	require.Equal(t, "ready", last["dina"].State)

	again, err := s.CloseOrphans(ctx, "a", start)
	require.NoError(t, err)
	require.Equal(t, store.Orphans{}, again, "idempotent")
}
