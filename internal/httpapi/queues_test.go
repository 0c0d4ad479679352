package httpapi

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/acd"
	"github.com/hotline/hotline/internal/store"
)

type fakeQueues struct{ snap acd.Snapshot }

func (f fakeQueues) Snapshot(context.Context) (acd.Snapshot, error) { return f.snap, nil }

// The live queues speak in the API's units: durations in milliseconds named
// so, null for a time that has not happened, [] for an empty list; a user
// in no queue (a supervisor listening in) is not listed as an agent.
func TestQueuesValueFormats(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	snap := acd.Snapshot{At: at, Queues: []acd.QueueSnapshot{
		{Name: "support", Waiting: 1, LongestWait: 42500 * time.Millisecond, Staffed: 1, SignedIn: 2, AHT: 3 * time.Minute,
			Calls: []acd.CallSnapshot{{Call: "c1", State: "waiting", Position: 1, Waited: 42500 * time.Millisecond}}},
		{Name: "billing"}, // no calls: Calls is nil
	}, Agents: []acd.AgentSnapshot{
		{Agent: "anna", State: acd.StateReady, Since: at.Add(-time.Minute), Connected: true, Queues: []string{"support"}},
		{Agent: "boris", State: acd.StateSignedOut, Queues: []string{"support", "billing"}}, // never signed in
		{Agent: "sam", State: acd.StateReady, Since: at, Connected: true},                   // a supervisor
	}}
	api := New(Options{Queues: fakeQueues{snap}})
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/queues", nil))
	require.Equal(t, 200, rec.Code, rec.Body.String())
	raw := rec.Body.String()
	require.NotContains(t, raw, "0001-01-01", "no zero times")
	require.NotContains(t, raw, "42500000000", "no nanoseconds")

	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	queues := body["queues"].([]any)
	support, billing := queues[0].(map[string]any), queues[1].(map[string]any)
	require.Equal(t, 42500.0, support["longest_wait_ms"])
	require.Equal(t, 180000.0, support["aht_ms"])
	require.Equal(t, 1.0, support["ready"], "anna is ready in support; sam is no member")
	require.NotContains(t, support, "aht")
	call := support["calls"].([]any)[0].(map[string]any)
	require.Equal(t, 42500.0, call["waited_ms"])
	require.Equal(t, []any{}, call["agents"])
	require.Equal(t, []any{}, call["skills"])
	require.Equal(t, []any{}, billing["calls"], "an empty list is [], not null")
	require.Equal(t, 0.0, billing["ready"])

	agents := body["agents"].([]any)
	require.Len(t, agents, 2, "the supervisor in no queue is not an agent")
	anna, boris := agents[0].(map[string]any), agents[1].(map[string]any)
	require.Equal(t, "anna", anna["agent"])
	require.Equal(t, "2026-12-03T09:59:00Z", anna["since"])
	require.Equal(t, "boris", boris["agent"])
	require.Contains(t, boris, "since")
	require.Nil(t, boris["since"], "never signed in: since is null")
	require.Equal(t, []any{"support", "billing"}, boris["queues"])
}

// A ticket's times not yet reached are null, not absent.
func TestTicketJSONNullTimes(t *testing.T) {
	b, err := json.Marshal(ticketJSON(store.Ticket{Number: 7, CreatedAt: time.Now(), UpdatedAt: time.Now()}))
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, json.Unmarshal(b, &body))
	for _, k := range []string{"first_response_at", "solved_at"} {
		require.Contains(t, body, k)
		require.Nil(t, body[k], k)
	}
	require.Equal(t, []any{}, body["notes"])
	require.Equal(t, []any{}, body["calls"])
	require.Equal(t, "T-000007", body["id"])
}
