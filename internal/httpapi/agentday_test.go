package httpapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/acd"
	"github.com/hotline/hotline/internal/store"
)

// GET /api/v1/agent/overview gives an agent their queues now and their day
// so far from the KPI code, in the API's units.
func TestAgentOverview(t *testing.T) {
	midnight := time.Date(2026, 11, 24, 0, 0, 0, 0, time.Local)
	now := midnight.Add(20 * time.Minute)
	snap := acd.Snapshot{At: now, Queues: []acd.QueueSnapshot{
		{Name: "support", Waiting: 2, LongestWait: 42 * time.Second},
		{Name: "billing", Waiting: 5},
	}, Agents: []acd.AgentSnapshot{
		{Agent: "anna", State: acd.StateReady, Since: now, Queues: []string{"support"}},
		{Agent: "boris", State: acd.StateReady, Since: now, Queues: []string{"support", "billing"}},
	}}
	e := newAuthEnvWith(t, func(o *Options) {
		o.Queues = fakeQueues{snap}
		o.Stats = o.Calls.(StatsReader)
		o.Now = func() time.Time { return now }
	})
	e.addUser("anna", store.RoleAgent, "correct horse")
	anna := e.browser()
	require.Equal(t, http.StatusOK, anna.login("anna", "correct horse").code)

	q, conn, end := midnight.Add(9*time.Minute), midnight.Add(10*time.Minute), midnight.Add(14*time.Minute)
	require.NoError(t, e.st.SaveCall(t.Context(), store.Call{ID: "c1", ArrivedAt: q.Add(-time.Minute), QueuedAt: &q,
		ConnectedAt: &conn, EndedAt: &end, Queue: "support", Outcome: "answered", Agent: "anna", UpdatedAt: end}))
	ev := func(id string, at time.Duration, state, call string) store.AgentEvent {
		return store.AgentEvent{ID: id, AgentID: "anna", At: midnight.Add(at), State: state, CallID: call}
	}
	require.NoError(t, e.st.AppendAgentEvents(t.Context(), []store.AgentEvent{
		ev("1", -time.Hour, "ready", ""), ev("2", 10*time.Minute, "on_call", "c1"),
		ev("3", 14*time.Minute, "wrap_up", "c1"), ev("4", 15*time.Minute, "ready", ""),
	}))

	r := anna.do("GET", "/api/v1/agent/overview", nil, nil)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, []any{map[string]any{"name": "support", "waiting": 2.0, "longest_wait_ms": 42000.0, "ready": 2.0}},
		r.body["queues"], "anna's queues only")
	require.Equal(t, map[string]any{"handled": 1.0, "aht_s": 300.0, "ready_s": 900.0}, r.body["day"],
		"talk 4 min + wrap-up 1 min; ready 0:00-0:10 and 0:15-0:20")

	require.Equal(t, http.StatusUnauthorized, e.browser().do("GET", "/api/v1/agent/overview", nil, nil).code)
}
